"""Suppliers: cooperatives, poverty-relief workshops and leading enterprises."""
