"""A bounded, seeded fuzzer of correctly signed but malformed requests (issue 9).

Every route family (objects, multipart, multi-delete, buckets, POST forms, presigned links, the
CI workflow/template/queue/execution/trigger API, unimplemented CI operations, the callbacks API)
is built valid from what the run set up, then mutated (keys, query values, headers, XML bodies),
signed by the official SDK's signer and sent raw. A 5xx (other than 501 ``NotImplemented`` or a
503 with ``Retry-After``), a dropped connection, a request left unanswered or an error body that is
not well-formed is a finding. ``tests/e2e/test_fuzz.py`` runs a small seeded run in the suite; the
long run is ``.venv/bin/python -m tests.fuzz --requests 10000 --seed 1`` (docs/benchmarks.md).
"""
