"""Buyer organizations: government units, public institutions and state-owned enterprises that buy in bulk."""
