"""A fault inside the server (a bug, a storage failure) on the real ASGI app: the client reads the
one internal-error sentence; the log holds the detail and its traceback in one record per fault,
tied to the request id (api/errors.py ``log_internal``)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from cosflow.api.errors import INTERNAL_MESSAGE
from cosflow.db import objects as object_rows
from cosflow.errors import StorageError
from cosflow.services.objects import ObjectService
from cosflow.settings import KeyPair, Settings
from tests.conftest import make_client
from tests.support.asgi import PORT, running
from tests.support.server import SECRET_ID, SECRET_KEY

BUCKET = "faults-1250000000"
SECRET_PATH = "/srv/cosflow/data/storage/blobs/ab/cd"


def _records(caplog: pytest.LogCaptureFixture, request_id: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if getattr(r, "request_id", None) == request_id]


@pytest.mark.parametrize(
    "fault",
    [RuntimeError(f"a bug near {SECRET_PATH}"), StorageError(f"could not read {SECRET_PATH}")],
    ids=["bug", "storage"],
)
def test_a_fault_is_answered_in_words_and_logged_once_with_its_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, fault: Exception
) -> None:
    settings = Settings(data_dir=tmp_path, credentials=(KeyPair(SECRET_ID, SECRET_KEY),))
    sdk = make_client(PORT)

    async def broken(self: ObjectService, bucket: str, key: str) -> None:
        raise fault

    async def scenario() -> None:
        async with running(settings) as http:
            auth = sdk.get_auth(Method="PUT", Bucket=BUCKET, Key=f"{BUCKET}/")
            assert (await http.put(f"/{BUCKET}/", headers={"Authorization": auth})).status_code == 200
            monkeypatch.setattr(ObjectService, "open", broken)
            auth = sdk.get_auth(Method="GET", Bucket=BUCKET, Key=f"{BUCKET}/a.txt")
            resp = await http.get(f"/{BUCKET}/a.txt", headers={"Authorization": auth})
        assert resp.status_code == 500 and "<Code>InternalError</Code>" in resp.text
        assert f"<Message>{INTERNAL_MESSAGE}</Message>" in resp.text and SECRET_PATH not in resp.text
        (record,) = _records(caplog, resp.headers["x-cos-request-id"])  # one record, not two
        assert record.levelno == logging.ERROR and record.exc_info is not None and record.exc_info[1] is fault

    with caplog.at_level(logging.ERROR):
        asyncio.run(scenario())


def test_each_key_a_multi_delete_fails_on_is_logged_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(data_dir=tmp_path, credentials=(KeyPair(SECRET_ID, SECRET_KEY),))
    sdk = make_client(PORT)

    def broken(*args: object) -> None:
        raise OSError(5, f"Input/output error: {SECRET_PATH}")

    async def scenario() -> None:
        async with running(settings) as http:
            auth = sdk.get_auth(Method="PUT", Bucket=BUCKET, Key=f"{BUCKET}/")
            assert (await http.put(f"/{BUCKET}/", headers={"Authorization": auth})).status_code == 200
            monkeypatch.setattr(object_rows, "remove", broken)
            body = b"<Delete><Object><Key>a</Key></Object><Object><Key>b</Key></Object></Delete>"
            auth = sdk.get_auth(Method="POST", Bucket=BUCKET, Key=f"{BUCKET}/", Params={"delete": ""})
            resp = await http.post(f"/{BUCKET}/?delete", content=body, headers={"Authorization": auth})
        assert resp.status_code == 200 and resp.text.count("<Code>InternalError</Code>") == 2, resp.text
        assert SECRET_PATH not in resp.text and "Errno" not in resp.text
        records = _records(caplog, resp.headers["x-cos-request-id"])
        assert sorted(getattr(r, "key", "") for r in records) == ["a", "b"]

    with caplog.at_level(logging.ERROR):
        asyncio.run(scenario())
