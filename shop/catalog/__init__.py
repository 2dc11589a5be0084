"""Products and the public catalogue."""
