"""Email: queued in the outbox within the caller's transaction, sent by the scheduler."""
