"""Use cases. Transactions begin and end here; blocking work runs in worker threads."""
