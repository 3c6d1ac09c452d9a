"""A full disk (issue 9 §2): the data dir sits on a small tmpfs this test mounts itself; the disk is
filled, every behaviour is checked through the official SDK, then space is freed and the same
server (no restart) stores and runs workflows again. docs/design-choices.md "A full disk".

Needs root (``mount -t tmpfs``); skipped with the reason where the mount is refused.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from qcloud_cos import CosS3Client
from qcloud_cos.cos_exception import CosServiceError

from cosflow.services.runner import OUT_OF_SPACE
from tests.conftest import make_client
from tests.support.media import make_image
from tests.support.server import APPID, ServerProcess
from tests.support.signing import error_code, error_field, signed
from tests.support.workflows import as_list, node, runs_of, wait_run, workflow_body

DISK = "16m"
RESERVE = 1024 * 1024
PART = 64 * 1024
FULL_MESSAGE = "out of disk space"
PIC_TEMPLATE = {"Tag": "PicProcess", "Name": "to-bmp", "PicProcess": {"ProcessRule": "imageMogr2/format/bmp"}}


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 16 MiB tmpfs at ``tmp_path/disk``, unmounted afterwards."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs for the full-disk test needs root")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={DISK}", "tmpfs", str(mount_point)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip() or mounted.returncode}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


@pytest.fixture
def disk_server(small_disk: Path) -> Iterator[ServerProcess]:
    env = {"COSFLOW_DISK_RESERVE_BYTES": str(RESERVE), "COSFLOW_MIN_PART_BYTES": str(PART)}
    server = ServerProcess(small_disk / "data", env=env).start()
    yield server
    server.stop()


def _fill(path: Path) -> None:
    """Write zeros to ``path`` until the disk refuses (ENOSPC)."""
    with open(path, "wb", buffering=0) as out:
        with contextlib.suppress(OSError):
            while True:
                out.write(bytes(64 * 1024))
        with contextlib.suppress(OSError):
            while True:
                out.write(bytes(512))


def _refused_as_full(call: object) -> CosServiceError:
    with pytest.raises(CosServiceError) as refused:
        call()  # type: ignore[operator]
    error = refused.value
    assert (error.get_status_code(), error.get_error_code()) == (503, "ServiceUnavailable"), error.get_digest_msg()
    assert FULL_MESSAGE in error.get_error_msg(), error.get_error_msg()
    _assert_no_path(error.get_error_msg())
    return error


def _assert_no_path(message: str) -> None:
    assert not re.search(r"(^|[\s'\"(])/[\w.-]+/", message) and "Errno" not in message, message


def _body(client: CosS3Client, bucket: str, key: str) -> bytes:
    return client.get_object(Bucket=bucket, Key=key)["Body"].get_raw_stream().read()


def _stored(client: CosS3Client, bucket: str) -> dict[str, bytes]:
    """Objects of every kind, written before the disk fills: plain, empty, overwritten, multipart."""
    kept = {f"keep/{n}.bin": os.urandom(100_000 + n) for n in range(3)} | {"keep/empty": b""}
    for key, data in kept.items():
        client.put_object(Bucket=bucket, Key=key, Body=data)
    client.put_object(Bucket=bucket, Key="keep/overwritten", Body=b"first version")
    kept["keep/overwritten"] = os.urandom(5000)
    client.put_object(Bucket=bucket, Key="keep/overwritten", Body=kept["keep/overwritten"])
    upload_id = client.create_multipart_upload(Bucket=bucket, Key="keep/multi")["UploadId"]
    parts = [os.urandom(PART), os.urandom(1000)]
    etags = [
        client.upload_part(Bucket=bucket, Key="keep/multi", Body=p, PartNumber=n, UploadId=upload_id)["ETag"]
        for n, p in enumerate(parts, 1)
    ]
    listed = {"Part": [{"PartNumber": n, "ETag": e} for n, e in enumerate(etags, 1)]}
    client.complete_multipart_upload(Bucket=bucket, Key="keep/multi", UploadId=upload_id, MultipartUpload=listed)
    kept["keep/multi"] = b"".join(parts)
    return kept


def _check_intact(client: CosS3Client, bucket: str, kept: dict[str, bytes]) -> None:
    for key, data in kept.items():
        got = _body(client, bucket, key)
        assert hashlib.md5(got).hexdigest() == hashlib.md5(data).hexdigest(), key
        etag = client.head_object(Bucket=bucket, Key=key)["ETag"].strip('"')
        if "-" not in etag:
            assert etag == hashlib.md5(data).hexdigest(), key


def test_full_disk_refuses_writes_clearly_keeps_reads_and_deletes_and_recovers(disk_server: ServerProcess) -> None:
    client = make_client(disk_server.port)
    bucket = f"full-{APPID}"
    client.create_bucket(Bucket=bucket)
    kept = _stored(client, bucket)
    pending = client.create_multipart_upload(Bucket=bucket, Key="pending")["UploadId"]
    part = client.upload_part(Bucket=bucket, Key="pending", Body=os.urandom(PART), PartNumber=1, UploadId=pending)

    # Fill the disk through the API until the server refuses, then the last bytes with a file.
    fillers = []
    for n in range(200):
        try:
            client.put_object(Bucket=bucket, Key=f"fill/{n}", Body=os.urandom(512 * 1024))
        except CosServiceError:
            _refused_as_full(lambda: client.put_object(Bucket=bucket, Key="fill/next", Body=os.urandom(512 * 1024)))
            break
        fillers.append(f"fill/{n}")
    else:
        pytest.fail("the 16 MiB disk never filled")
    filler = disk_server.data_dir.parent / "filler"
    _fill(filler)

    # New data is refused with 503 ServiceUnavailable (the SDKs retry it), words, Retry-After.
    _refused_as_full(lambda: client.put_object(Bucket=bucket, Key="new", Body=b"x" * 1000))
    _refused_as_full(lambda: client.put_object(Bucket=bucket, Key="keep/0.bin", Body=b"overwrite"))
    _refused_as_full(
        lambda: client.upload_part(Bucket=bucket, Key="pending", Body=b"p" * 1000, PartNumber=2, UploadId=pending)
    )
    source = {"Bucket": bucket, "Key": "keep/0.bin", "Region": "ap-guangzhou"}
    _refused_as_full(lambda: client.copy_object(Bucket=bucket, Key="copy", CopySource=source))
    only_part = {"Part": [{"PartNumber": 1, "ETag": part["ETag"]}]}
    _refused_as_full(
        lambda: client.complete_multipart_upload(
            Bucket=bucket, Key="pending", UploadId=pending, MultipartUpload=only_part
        )
    )  # and the upload keeps its part (listed below)
    raw = signed(client, disk_server, bucket, "PUT", "raw", body=b"y" * 1000)
    assert (raw.status_code, error_code(raw), raw.headers.get("Retry-After")) == (503, "ServiceUnavailable", "5")
    assert FULL_MESSAGE in error_field(raw, "Message")

    # A write of rows only (no bytes) either fits in what SQLite has left or is the same 503.
    for rows_only in (
        lambda: client.create_multipart_upload(Bucket=bucket, Key="rows"),
        lambda: client.put_bucket_acl(Bucket=bucket, ACL="public-read"),
        lambda: client.ci_create_template(Bucket=bucket, Template=PIC_TEMPLATE),
    ):
        try:
            rows_only()
        except CosServiceError as refused:
            assert (refused.get_status_code(), refused.get_error_code()) == (503, "ServiceUnavailable")

    # Reads and listings work; nothing stored was touched.
    _check_intact(client, bucket, kept)
    listed = {o["Key"] for o in client.list_objects(Bucket=bucket, Prefix="keep/")["Contents"]}
    assert listed == set(kept)
    assert [u["Key"] for u in as_list(client.list_multipart_uploads(Bucket=bucket).get("Upload"))] == ["pending"]
    assert [p["PartNumber"] for p in client.list_parts(Bucket=bucket, Key="pending", UploadId=pending)["Part"]] == ["1"]
    assert client.ci_get_template(Bucket=bucket)["TotalCount"] in ("0", "1")
    assert client.ci_get_workflow(Bucket=bucket)["TotalCount"] == "0"

    # Deletes work on the full disk, and free space.
    client.delete_object(Bucket=bucket, Key=fillers[0])
    deleted = client.delete_objects(Bucket=bucket, Delete={"Object": [{"Key": k} for k in fillers[1:4]]})
    assert sorted(d["Key"] for d in as_list(deleted.get("Deleted"))) == sorted(fillers[1:4])
    assert not deleted.get("Error"), deleted
    client.abort_multipart_upload(Bucket=bucket, Key="pending", UploadId=pending)
    for key in fillers[:4]:
        with pytest.raises(CosServiceError) as gone:
            client.head_object(Bucket=bucket, Key=key)
        assert gone.value.get_status_code() == 404
    assert disk_server.proc is not None and disk_server.proc.poll() is None
    _check_intact(client, bucket, kept)

    # Space comes back: the same server stores again, with no restart.
    filler.unlink()
    fresh = os.urandom(300_000)
    client.put_object(Bucket=bucket, Key="after", Body=fresh)
    assert _body(client, bucket, "after") == fresh
    _check_intact(client, bucket, kept)
    assert os.listdir(disk_server.data_dir / "storage" / "tmp") == []  # no upload left half-written
    log = "".join(disk_server.output)
    assert "unhandled error" not in log and "internal error" not in log, log[-3000:]  # no 500 at any point


def test_task_whose_output_cannot_be_written_fails_clearly_and_workflows_run_after(
    disk_server: ServerProcess, tmp_path: Path
) -> None:
    client = make_client(disk_server.port)
    bucket = f"fullci-{APPID}"
    client.create_bucket(Bucket=bucket)
    template_id = client.ci_create_template(Bucket=bucket, Template=PIC_TEMPLATE)["Template"]["TemplateId"]
    step = node("PicProcess", "out/${InputName}.${Ext}", TemplateId=template_id)
    body = workflow_body("bmp", {"Start": "P_1", "P_1": "End"}, {"P_1": step}, prefix="in/", state="Active")
    workflow_id = client.ci_create_workflow(Bucket=bucket, Body=body)["MediaWorkflow"]["WorkflowId"]
    picture = make_image(tmp_path / "big.jpg", 1500, 1500).read_bytes()  # about 6.8 MB as BMP
    client.put_object(Bucket=bucket, Key="warm", Body=b"w")  # the reserve is allocated by now

    free = os.statvfs(disk_server.data_dir).f_bavail * os.statvfs(disk_server.data_dir).f_frsize
    filler = disk_server.data_dir.parent / "filler"
    with open(filler, "wb") as out:  # leave room for the input, not for the output
        os.posix_fallocate(out.fileno(), 0, free - RESERVE - 2 * 1024 * 1024)
    client.put_object(Bucket=bucket, Key="in/first.jpg", Body=picture)
    run_id = runs_of(client, bucket, workflow_id)[0]["RunId"]
    execution = wait_run(client, bucket, run_id, timeout=60)
    task = as_list(execution["Tasks"])[0]
    assert (execution["State"], task["State"], task["Code"]) == ("Failed", "Failed", "InsufficientStorage"), execution
    assert task["Message"] == OUT_OF_SPACE, task  # words, no path, no scratch name

    filler.unlink()  # space is back: the next upload's run succeeds on the same server
    client.put_object(Bucket=bucket, Key="in/second.jpg", Body=picture)
    second = next(r["RunId"] for r in runs_of(client, bucket, workflow_id) if r["RunId"] != run_id)
    assert wait_run(client, bucket, second, timeout=60)["State"] == "Success"
    assert _body(client, bucket, "out/second.bmp")[:2] == b"BM"


def _reserve_lent(server: ServerProcess) -> int:
    """How many times the server gave its reserve to a delete (its log says so each time)."""
    return "".join(server.output).count("disk full: reserve released")


def _fill_and_delete(client: CosS3Client, server: ServerProcess, bucket: str, key: str, filler: Path) -> None:
    """Fill whatever room is left, then DELETE ``key``: it must commit, with the reserve's help.

    The write-ahead log is emptied first (while there is room), so the delete's commit must append
    to it: without that, a log left with room from earlier commits let the delete commit without
    the reserve, and the test could not tell a full disk from a roomy one."""
    database = server.data_dir / "cosflow.db"
    assert database.exists()
    with sqlite3.connect(database) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    _fill(filler)
    _refused_as_full(lambda: client.put_object(Bucket=bucket, Key="new", Body=b"n" * 200_000))
    lent = _reserve_lent(server)
    client.delete_object(Bucket=bucket, Key=key)
    assert _reserve_lent(server) == lent + 1, "the delete did not need the reserve: the disk was not full"
    with pytest.raises(CosServiceError) as gone:
        client.head_object(Bucket=bucket, Key=key)
    assert gone.value.get_status_code() == 404


def test_deletes_keep_working_when_the_room_a_delete_freed_is_taken_again(disk_server: ServerProcess) -> None:
    """A delete on a full disk borrows the reserve for its commit; the blob it frees gives the
    reserve back its room at once, so whatever fills the disk next (an upload, another program)
    cannot leave the next delete without it. Was: the freed room was anyone's, and the second
    delete answered 503."""
    client = make_client(disk_server.port)
    bucket = f"again-{APPID}"
    client.create_bucket(Bucket=bucket)
    keys = [f"a/{n}" for n in range(4)]
    for key in keys:
        client.put_object(Bucket=bucket, Key=key, Body=os.urandom(512 * 1024))
    reserve = disk_server.data_dir / "storage" / "reserve"
    for n, key in enumerate(keys[:3]):
        _fill_and_delete(client, disk_server, bucket, key, disk_server.data_dir.parent / f"filler{n}")
        assert reserve.stat().st_size == RESERVE  # held again, out of the deleted blob's room
    for n in range(3):
        (disk_server.data_dir.parent / f"filler{n}").unlink()
    client.put_object(Bucket=bucket, Key="after", Body=b"back")
    assert _body(client, bucket, keys[3]) and _body(client, bucket, "after") == b"back"


def test_a_reserve_file_removed_from_outside_still_lets_deletes_through(disk_server: ServerProcess) -> None:
    """Someone removes data/storage/reserve while the server runs (a cleanup script, an operator
    looking for room): the server keeps the file open, so its space is still there for a delete
    on a full disk, and the reserve is back under its name after. Was: 503 on every delete."""
    client = make_client(disk_server.port)
    bucket = f"removed-{APPID}"
    client.create_bucket(Bucket=bucket)
    client.put_object(Bucket=bucket, Key="big", Body=os.urandom(512 * 1024))
    reserve = disk_server.data_dir / "storage" / "reserve"
    reserve.unlink()
    _fill_and_delete(client, disk_server, bucket, "big", disk_server.data_dir.parent / "filler")
    assert reserve.stat().st_size == RESERVE
