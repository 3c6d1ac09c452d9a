"""The in-suite fuzz run (issue 9): about 1,000 correctly signed but malformed requests, seeded,
over every route family (tests/fuzz/). None may answer a 5xx (a deliberate 501 ``NotImplemented``
and a 503 with ``Retry-After`` aside), drop or hang the connection, or carry an error body a
client cannot parse; afterwards the server still stores and serves. The long run is
``.venv/bin/python -m tests.fuzz --requests 10000 --seed 1`` (docs/benchmarks.md, "Fuzzing")."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.conftest import make_client
from tests.fuzz.families import FAMILIES
from tests.fuzz.health import still_serves
from tests.fuzz.run import fuzz, prepare
from tests.support.server import APPID, ServerProcess

REQUESTS = 1000
SEED = 9


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server of its own: what the run stores (and any row a defect leaves) stays out of others' way."""
    proc = ServerProcess(tmp_path_factory.mktemp("fuzz-data")).start()
    yield proc
    proc.stop()


def test_seeded_fuzz_run_finds_no_5xx_and_no_dropped_connection(fuzz_server: ServerProcess) -> None:
    client = make_client(fuzz_server.port)
    state = prepare(client, APPID)
    report = fuzz(client, fuzz_server.port, state, REQUESTS, SEED)
    summary = report.summary()
    assert report.requests >= REQUESTS * 0.95 and set(report.families) == set(FAMILIES), summary
    found = (summary["5xx"], summary["dropped"], summary["no_answer"], summary["bad_error_body"])
    assert found == (0, 0, 0, 0), json.dumps(summary["kinds"], indent=1, ensure_ascii=False, default=str)
    assert fuzz_server.proc is not None and fuzz_server.proc.poll() is None
    assert still_serves(client, state)
