"""Delivering the callback outbox over HTTP: retries, signing, the address guard, the attempt log."""
