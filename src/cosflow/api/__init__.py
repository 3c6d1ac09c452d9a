"""The HTTP edge: routing, authentication, the COS object API and the CI API. No SQL, no files."""
