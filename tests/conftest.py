"""Fixtures: a real cosflow server process and the official SDK pointed at it."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from qcloud_cos import CosConfig, CosS3Client

from tests.support import databases
from tests.support.moto import MotoServer, MotoUnavailable
from tests.support.server import APPID, REGION, SECRET_ID, SECRET_KEY, ServerProcess

_bucket_numbers = itertools.count(1)
#: Lines a test module wants shown at the end of the run (``pytest_terminal_summary``), such as
#: the SDK CI surface tally.
SUMMARY = pytest.StashKey[list[str]]()
# The SDK logs every request at INFO; keep test output readable.
logging.getLogger("qcloud_cos").setLevel(logging.WARNING)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    lines = config.stash.get(SUMMARY, [])
    if lines:
        terminalreporter.section("summary of tallies")
        for line in lines:
            terminalreporter.write_line(line)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test marked ``both_databases`` runs once per database (SQLite and PostgreSQL) unless the
    run is on PostgreSQL alone (``COSFLOW_TEST_DATABASE=postgresql``)."""
    if "database" in metafunc.fixturenames and metafunc.definition.get_closest_marker("both_databases"):
        both = ["postgresql"] if databases.chosen() == "postgresql" else ["sqlite", "postgresql"]
        metafunc.parametrize("database", both, indirect=True, scope="session")


@pytest.fixture(scope="session", autouse=True)
def _drop_test_databases() -> Iterator[None]:
    yield
    databases.drop_all()


@pytest.fixture(scope="session")
def database(request: pytest.FixtureRequest) -> str:
    """``sqlite`` or ``postgresql``: the database the session's servers use (skips, with the
    reason, where PostgreSQL is asked for and absent)."""
    chosen: str = getattr(request, "param", databases.chosen())
    if chosen == "postgresql" and databases.unavailable():
        pytest.skip(databases.unavailable() or "")
    return chosen


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory, database: str) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path_factory.mktemp(f"cosflow-data-{database}"), database=database).start()
    yield proc
    proc.stop()


def make_client(port: int, secret_id: str = SECRET_ID, secret_key: str = SECRET_KEY, **extra: object) -> CosS3Client:
    config = CosConfig(
        Region=REGION,
        SecretId=secret_id,
        SecretKey=secret_key,
        Scheme="http",
        IP="127.0.0.1",
        Port=port,
        ServiceDomain=f"127.0.0.1:{port}",
        **extra,
    )
    return CosS3Client(config, retry=0)


@pytest.fixture(scope="session")
def client(server: ServerProcess) -> CosS3Client:
    return make_client(server.port)


@pytest.fixture(scope="session")
def engine_server(tmp_path_factory: pytest.TempPathFactory, database: str) -> Iterator[ServerProcess]:
    """A real server process whose registry holds the test processors (tests/support/processors.py)."""
    data = tmp_path_factory.mktemp(f"engine-data-{database}")
    env = {"COSFLOW_TEST_EXEC_LOG": str(data / "executions.log"), "COSFLOW_WORKERS": "4"}
    proc = ServerProcess(data / "data", env=env, module="tests.support.testserver", database=database).start()
    yield proc
    proc.stop()


@pytest.fixture(scope="session")
def ci(engine_server: ServerProcess) -> CosS3Client:
    """The official SDK pointed at the engine server (CI calls go to the same host and port)."""
    return make_client(engine_server.port)


CALLBACK_SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@pytest.fixture(scope="session")
def callback_server(tmp_path_factory: pytest.TempPathFactory, database: str) -> Iterator[ServerProcess]:
    """The engine server with a test-sized retry schedule and signing on."""
    data = tmp_path_factory.mktemp(f"callback-data-{database}")
    env = {
        "COSFLOW_WORKERS": "4",
        "COSFLOW_CALLBACK_RETRY_SCHEDULE": "0,1,1,1",
        "COSFLOW_CALLBACK_TIMEOUT": "1",
        "COSFLOW_CALLBACK_CONNECT_TIMEOUT": "1",
        "COSFLOW_CALLBACK_RETRY_AFTER_CAP": "2",
        "COSFLOW_CALLBACK_SECRET": CALLBACK_SECRET,
    }
    proc = ServerProcess(data / "data", env=env, module="tests.support.testserver", database=database).start()
    yield proc
    proc.stop()
    (data / "server.log").write_text("".join(proc.output))


@pytest.fixture
def media_bucket(ci: CosS3Client) -> str:
    name = f"media{next(_bucket_numbers)}-{APPID}"
    ci.create_bucket(Bucket=name)
    return name


@pytest.fixture
def bucket(client: CosS3Client) -> str:
    name = f"test{next(_bucket_numbers)}-{APPID}"
    client.create_bucket(Bucket=name)
    return name


@pytest.fixture
def data_dir(server: ServerProcess) -> Path:
    return server.data_dir


@pytest.fixture(scope="session")
def moto_s3() -> Iterator[MotoServer]:
    """moto's S3 server for the session; the tests that need it skip, saying why, if it cannot start."""
    try:
        proc = MotoServer().start()
    except MotoUnavailable as exc:
        pytest.skip(f"S3 tests need moto_server: {exc}")
    yield proc
    proc.stop()
