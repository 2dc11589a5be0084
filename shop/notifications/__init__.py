"""E-mail notifications through an outbox: written in the use case's transaction, sent after it commits."""
