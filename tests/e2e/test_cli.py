"""The command line: serve's banner, doctor, settings file; every command but ``serve`` run from
an empty directory, on the configured data dir, creating nothing; ``callbacks show`` byte for byte."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import fields
from importlib import metadata
from pathlib import Path

import httpx
import pytest

from cosflow.settings import Settings, load_settings
from tests.conftest import make_client
from tests.support import databases
from tests.support.receiver import Receiver
from tests.support.server import SECRET_ID, SECRET_KEY, ServerProcess
from tests.support.templates import transcode_template
from tests.support.workflows import node, runs_of, wait_run, workflow_body

ROOT = Path(__file__).resolve().parents[2]


def cosflow(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    """``python -m cosflow ARGS`` run in ``cwd`` with no COSFLOW_* variable but those in ``env``."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("COSFLOW_")}
    return subprocess.run(
        [sys.executable, "-m", "cosflow", *args],
        cwd=cwd,
        env={**clean, "COLUMNS": "80", **(env or {})},
        capture_output=True,
        timeout=60,
    )


@pytest.fixture
def empty_cwd(tmp_path: Path) -> Iterator[Path]:
    """An empty working directory that must still be empty afterwards."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    yield cwd
    assert sorted(p.name for p in cwd.iterdir()) == []  # no ./data, no dev-credentials.json


def test_serve_banner_tells_how_to_connect(server: ServerProcess) -> None:
    banner = "".join(server.output)
    assert f"listening on http://127.0.0.1:{server.port}" in banner
    for expected in (
        "APPID      1250000000",
        "ap-guangzhou",
        SECRET_ID,
        SECRET_KEY,
        "CosS3Client",
        f"Port={server.port}",
    ):
        assert expected in banner


def test_doctor_reports_ffmpeg_database_and_data_dir(server: ServerProcess, empty_cwd: Path) -> None:
    result = cosflow(empty_cwd, "doctor", "--data-dir", str(server.data_dir), env=server.cli_env())
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout.decode()
    assert "ffmpeg" in out and "version" in out
    assert server.database in out and "(writable)" in out and "schema" in out
    ffmpeg_line = next(line for line in out.splitlines() if line.startswith("ffmpeg"))
    assert "Copyright" in ffmpeg_line  # one line each, however long: never wrapped at 80 columns


def test_example_config_documents_every_setting_and_loads(tmp_path: Path) -> None:
    example = ROOT / "cosflow.example.toml"
    documented = set(tomllib.loads(example.read_text()))
    assert documented == {f.name for f in fields(Settings)} - {"credentials"}
    settings = load_settings(example, env={}, data_dir=tmp_path)
    assert settings.port == 8080 and settings.domains == ("myqcloud.com", "tencentcos.cn")
    assert settings.credentials  # the dev pair was generated into tmp_path
    assert (tmp_path / "dev-credentials.json").exists()


def test_version_comes_from_the_package_metadata(empty_cwd: Path) -> None:
    result = cosflow(empty_cwd, "--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode() == f"cosflow {metadata.version('cosflow')}\n"


NEEDS_DATA = [
    ("callbacks", "list"),
    ("callbacks", "list", "--state", "dead"),
    ("callbacks", "show", "msg_0123"),
    ("callbacks", "redeliver", "msg_0123"),
    ("callbacks", "redeliver", "--failed-since", "2024-05-08T11:05:09+0800"),
]


@pytest.mark.parametrize("args", NEEDS_DATA, ids=lambda a: "-".join(a))
@pytest.mark.parametrize("where", ["default", "flag", "env", "config"])
def test_without_a_data_dir_one_line_exit_1_and_nothing_created(
    empty_cwd: Path, tmp_path: Path, args: tuple[str, ...], where: str
) -> None:
    missing = {"default": empty_cwd / "data", "flag": tmp_path / "flag", "env": tmp_path / "env"}
    missing["config"] = tmp_path / "conf" / "store"
    extra: list[str] = []
    env: dict[str, str] = {}
    if where == "flag":
        extra = ["--data-dir", str(missing["flag"])]
    elif where == "env":
        env = {"COSFLOW_DATA_DIR": str(missing["env"])}
    elif where == "config":
        (tmp_path / "conf").mkdir()
        (tmp_path / "conf" / "cosflow.toml").write_text('data_dir = "store"\n')
        extra = ["--config", str(tmp_path / "conf" / "cosflow.toml")]
    result = cosflow(empty_cwd, *args, *extra, env=env)
    said = result.stderr.decode()
    assert result.returncode == 1, (result.stdout, said)
    assert said.count("\n") == 1 and f"no cosflow data dir at {missing[where]}" in said, said
    assert "cosflow serve" in said and result.stdout == b""
    assert not missing[where].exists()


def test_doctor_without_a_data_dir_says_so_and_creates_nothing(empty_cwd: Path, tmp_path: Path) -> None:
    for extra in ([], ["--data-dir", str(tmp_path / "nowhere")]):
        result = cosflow(empty_cwd, "doctor", *extra)
        out = result.stdout.decode()
        assert result.returncode == 1, out
        where = tmp_path / "nowhere" if extra else empty_cwd / "data"
        assert f"data dir   none at {where} (`cosflow serve` creates it)" in out, out
        assert "Traceback" not in out + result.stderr.decode()
    assert not (tmp_path / "nowhere").exists()


def test_a_data_dir_without_a_database_is_reported_not_filled(empty_cwd: Path, tmp_path: Path) -> None:
    bare = tmp_path / "bare"
    bare.mkdir()
    result = cosflow(empty_cwd, "callbacks", "list", "--data-dir", str(bare))
    assert result.returncode == 1
    assert result.stderr.decode() == f"no cosflow database at {bare / 'cosflow.db'} (`cosflow serve` creates it)\n"
    assert list(bare.iterdir()) == []


@pytest.fixture(scope="module")
def delivered(callback_server: ServerProcess) -> Iterator[tuple[dict[str, bytes], str]]:
    """One WorkflowStart callback per ResultFormat, delivered to a real receiver: (id -> the bytes
    the receiver got, a RunId)."""
    client = make_client(callback_server.port)
    bucket = "cli-show-1250000000"
    client.create_bucket(Bucket=bucket)
    transcode = transcode_template(client, bucket)
    receiver = Receiver().start()
    got: dict[str, bytes] = {}
    try:
        run_id = ""
        for fmt in ("JSON", "XML"):
            notify = {"Url": receiver.url, "Type": "Url", "Event": "WorkflowStart", "ResultFormat": fmt, "State": "On"}
            nodes = {"Transcode_1": node("Transcode", "t/${InputName}.${Ext}", TemplateId=transcode)}
            deps = {"Start": "Transcode_1", "Transcode_1": "End"}
            body = workflow_body(f"show-{fmt}", deps, nodes, prefix=f"{fmt}/", state="Active", notify=notify)
            workflow_id = client.ci_create_workflow(Bucket=bucket, Body=body)["MediaWorkflow"]["WorkflowId"]
            # a long, non-ASCII key: the body has lines far past 80 columns and multi-byte characters
            client.put_object(Bucket=bucket, Key=f"{fmt}/{'très-long-nom-de-fichier-' * 6}ü.mp4", Body=b"x")
            run_id = runs_of(client, bucket, workflow_id)[0]["RunId"]
            wait_run(client, bucket, run_id)
            received = receiver.wait_for(len(got) + 1)[-1]
            got[received.headers["webhook-id"]] = received.body
        yield got, run_id
    finally:
        receiver.stop()


def test_show_prints_the_sent_body_byte_for_byte(
    callback_server: ServerProcess, delivered: tuple[dict[str, bytes], str], empty_cwd: Path
) -> None:
    bodies, _ = delivered
    client = make_client(callback_server.port)
    for callback_id, sent in bodies.items():
        result = cosflow(
            empty_cwd,
            "callbacks",
            "show",
            callback_id,
            "--data-dir",
            str(callback_server.data_dir),
            env=callback_server.cli_env(),
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout == sent  # stdout is exactly the body, nothing wrapped, added or dropped
        said = result.stderr.decode()
        assert callback_id in said and "delivered" in said and "status=200" in said  # the metadata: stderr
        if sent.startswith(b"{"):
            assert subprocess.run(["jq", "."], input=result.stdout, capture_output=True).returncode == 0
        else:
            assert ET.fromstring(result.stdout).findtext("EventName") == "WorkflowStart"
        host = f"127.0.0.1:{callback_server.port}"
        path = f"/api/callbacks/{callback_id}"
        auth = client.get_auth(Method="GET", Bucket="x-1250000000", Key=path, Headers={"Host": host})
        shown = httpx.get(callback_server.endpoint + path, headers={"Authorization": auth}).json()["callback"]
        assert shown["body"].encode() == sent and shown["content_type"].split(";")[0] in {
            "application/json",
            "application/xml",
        }


def test_callbacks_from_elsewhere_use_the_configured_data_dir(
    callback_server: ServerProcess, delivered: tuple[dict[str, bytes], str], empty_cwd: Path, tmp_path: Path
) -> None:
    bodies, run_id = delivered
    data_dir = callback_server.data_dir
    config = tmp_path / "cosflow.toml"
    config.write_text(f'data_dir = "{os.path.relpath(data_dir, tmp_path)}"\n')  # relative to the file
    ways: list[tuple[list[str], dict[str, str]]] = [
        (["--data-dir", str(data_dir)], {}),
        ([], {"COSFLOW_DATA_DIR": str(data_dir)}),
        (["--config", str(config)], {}),
    ]
    for extra, env in ways:
        env = {**env, **callback_server.cli_env()}
        result = cosflow(empty_cwd, "callbacks", "list", "--run", run_id, *extra, env=env)
        assert result.returncode == 0, result.stderr
        listed = result.stdout.decode().splitlines()
        assert len(listed) == 1 and listed[0].split()[0] in bodies and "delivered" in listed[0]
        doctor = cosflow(empty_cwd, "doctor", *extra, env=env)
        assert doctor.returncode == 0 and f"data dir   {data_dir.resolve()} (writable)" in doctor.stdout.decode()
    assert json.loads(next(b for b in bodies.values() if b.startswith(b"{")))["EventName"] == "WorkflowStart"


@pytest.mark.parametrize(
    ("url", "named", "why"),
    [
        (
            "postgresql+psycopg://postgres@127.0.0.1:1/cosflow",
            "postgresql+psycopg://postgres@127.0.0.1:1/cosflow",
            "refused",
        ),
        (
            "postgresql+psycopg://nobody:s3cret@127.0.0.1:5432/postgres",
            "postgresql+psycopg://nobody:***@127.0.0.1:5432/postgres",
            'role "nobody" does not exist',
        ),
        (
            "postgresql://postgres@127.0.0.1:5432/cosflow_no_such_db",
            "postgresql+psycopg://postgres@127.0.0.1:5432/cosflow_no_such_db",
            'database "cosflow_no_such_db" does not exist',
        ),
    ],
    ids=["unreachable", "wrong-credentials", "no-such-database"],
)
def test_serve_with_a_database_it_cannot_open_stops_in_one_line(
    empty_cwd: Path, tmp_path: Path, url: str, named: str, why: str
) -> None:
    """Nothing is bound or printed: one line on stderr names the database (never its password)
    and the driver's reason, exit 1, no traceback."""
    if "5432" in url and databases.unavailable():
        pytest.skip(databases.unavailable() or "")
    result = cosflow(
        empty_cwd, "serve", "--port", "0", "--data-dir", str(tmp_path / "d"), env={"COSFLOW_DATABASE_URL": url}
    )
    said = result.stderr.decode()
    assert result.returncode == 1, (result.stdout, said)
    assert said.count("\n") == 1 and said.startswith(f"cannot open the database {named}: "), said
    assert why in said and "s3cret" not in said and "Traceback" not in said
    assert result.stdout == b"" and not (tmp_path / "d" / "cosflow.db").exists()


def test_serve_with_a_database_url_of_another_kind_is_a_configuration_error(empty_cwd: Path, tmp_path: Path) -> None:
    result = cosflow(empty_cwd, "serve", "--data-dir", str(tmp_path / "d"), env={"COSFLOW_DATABASE_URL": "mysql://x/y"})
    said = result.stderr.decode()
    assert result.returncode == 2 and said.count("\n") == 1, said
    assert "postgresql+psycopg://" in said and "Traceback" not in said
