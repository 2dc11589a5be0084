"""Bulk orders of buyer organizations (以购代捐, 预留份额): drafts, approval, and the order they become."""
