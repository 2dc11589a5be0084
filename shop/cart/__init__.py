"""The shopping cart: server-side for signed-in buyers, in the session for guests (merged at sign-in)."""
