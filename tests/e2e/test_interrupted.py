"""Interrupted uploads leave no visible object and nothing half-written; kill -9 loses nothing stored."""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from pathlib import Path

import pytest
from qcloud_cos import CosS3Client

from cosflow.domain import qsign
from tests.conftest import make_client
from tests.support.refusals import assert_absent
from tests.support.server import REGION, SECRET_ID, SECRET_KEY, ServerProcess


def _raw_put_headers(bucket: str, key: str, length: int) -> bytes:
    host = f"{bucket}.cos.{REGION}.myqcloud.com"
    now = int(time.time())
    key_time = f"{now - 60};{now + 600}"
    headers = {"host": host, "content-length": str(length)}
    auth = qsign.authorization_header(SECRET_ID, SECRET_KEY, key_time, "PUT", "/" + key, {}, headers)
    return (
        f"PUT /{key} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {length}\r\nAuthorization: {auth}\r\n\r\n"
    ).encode()


def _send_until_cut(sock: socket.socket, data: bytes) -> None:
    with contextlib.suppress(OSError):  # the server is killed mid-send: that is the point
        sock.sendall(data)


def _tmp_files(data_dir: Path) -> list[Path]:
    return list((data_dir / "storage" / "tmp").iterdir())


def _wait_for(condition, timeout: float = 5.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_client_disconnect_mid_upload_leaves_nothing(client: CosS3Client, server: ServerProcess, bucket: str) -> None:
    client.put_object(Bucket=bucket, Key="victim", Body=b"old version")
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(_raw_put_headers(bucket, "victim", 8 * 1024 * 1024))
        sock.sendall(os.urandom(3 * 1024 * 1024))
        assert _wait_for(lambda: bool(_tmp_files(server.data_dir)), timeout=10), "the upload never reached the disk"
    assert _wait_for(lambda: not _tmp_files(server.data_dir)), "temp file of the aborted upload was not removed"
    assert client.get_object(Bucket=bucket, Key="victim")["Body"].get_raw_stream().read() == b"old version"
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(_raw_put_headers(bucket, "never", 4 * 1024 * 1024))
        sock.sendall(b"x" * 1024)
    assert _wait_for(lambda: not _tmp_files(server.data_dir))
    assert_absent(client, bucket, "never")


def test_kill_9_mid_upload_then_restart(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data").start()
    try:
        client = make_client(server.port)
        client.create_bucket(Bucket="crash-1250000000")
        client.put_object(Bucket="crash-1250000000", Key="kept", Body=b"stored before the crash")
        sock = socket.create_connection(("127.0.0.1", server.port))
        sock.sendall(_raw_put_headers("crash-1250000000", "torn", 16 * 1024 * 1024))
        sender = threading.Thread(target=_send_until_cut, args=(sock, os.urandom(6 * 1024 * 1024)), daemon=True)
        sender.start()
        assert _wait_for(lambda: bool(_tmp_files(server.data_dir)), timeout=10), "upload never reached the disk"
        server.kill()
        sender.join(10)  # the kill cuts the connection, which ends the send
        sock.close()
        assert _tmp_files(server.data_dir), "the half-written temp file is what the restart must clean"
        port = server.port
        server = ServerProcess(tmp_path / "data", port=port).start()
        client = make_client(server.port)
        assert not _tmp_files(server.data_dir)
        assert_absent(client, "crash-1250000000", "torn")
        kept = client.get_object(Bucket="crash-1250000000", Key="kept")["Body"].get_raw_stream().read()
        assert kept == b"stored before the crash"
        assert [c["Key"] for c in client.list_objects(Bucket="crash-1250000000")["Contents"]] == ["kept"]
    finally:
        server.stop()


def test_second_server_on_the_same_data_dir_is_refused_and_touches_nothing(tmp_path: Path) -> None:
    """A second server would sweep the first one's in-flight temp files and requeue its running
    tasks; it must refuse to start instead, naming the holder."""
    server = ServerProcess(tmp_path / "data").start()
    try:
        client = make_client(server.port)
        client.create_bucket(Bucket="twice-1250000000")
        body = os.urandom(4 * 1024 * 1024)
        sock = socket.create_connection(("127.0.0.1", server.port))
        sock.sendall(_raw_put_headers("twice-1250000000", "in-flight", len(body)))
        sock.sendall(body[: len(body) // 2])
        assert _wait_for(lambda: bool(_tmp_files(server.data_dir)), timeout=10), "upload never reached the disk"
        with pytest.raises(RuntimeError, match=f"another cosflow server \\(pid {server.proc.pid}\\)"):
            ServerProcess(tmp_path / "data").start()
        assert _tmp_files(server.data_dir), "the refused server swept the live upload's temp file"
        sock.sendall(body[len(body) // 2 :])
        assert sock.recv(4096).startswith(b"HTTP/1.1 200")
        sock.close()
        got = client.get_object(Bucket="twice-1250000000", Key="in-flight")["Body"].get_raw_stream().read()
        assert got == body
    finally:
        server.stop()


def test_restart_removes_task_scratch_dirs_a_crash_left(tmp_path: Path) -> None:
    """A task killed between its success and its cleanup leaves a copy of its input behind; the
    next start removes it (no task runs before that), and stored objects stay."""
    server = ServerProcess(tmp_path / "data").start()
    try:
        client = make_client(server.port)
        client.create_bucket(Bucket="scratch-1250000000")
        client.put_object(Bucket="scratch-1250000000", Key="kept", Body=b"kept")
        server.kill()
        leftover = tmp_path / "data" / "work" / ("j" + "0" * 32)
        leftover.mkdir(parents=True)
        (leftover / "input-0.mp4").write_bytes(b"\0" * 4096)
        server = ServerProcess(tmp_path / "data", port=server.port).start()
        assert not leftover.exists()
        client = make_client(server.port)
        assert client.get_object(Bucket="scratch-1250000000", Key="kept")["Body"].get_raw_stream().read() == b"kept"
    finally:
        server.stop()
