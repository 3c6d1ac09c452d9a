"""moto's standalone S3 server (``moto_server``, an independent S3 implementation) on 127.0.0.1
with an ephemeral port, for the S3 blob store's tests."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx

#: What the store's tests sign with; moto accepts any pair unless told to check them.
ACCESS_KEY = "AKIAcosflowTEST00001"
SECRET_KEY = "cosflowMotoSecret0000000000000000000001"
REGION = "us-east-1"
#: Small parts, so the store's multipart path runs on small bodies (S3 itself needs 5 MiB).
TEST_PART_BYTES = 256 * 1024


class MotoUnavailable(RuntimeError):
    """moto_server is not installed or did not start."""


@dataclass
class MotoServer:
    #: Extra environment for moto, e.g. ``INITIAL_NO_AUTH_ACTION_COUNT`` to make it check keys.
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[str] | None = None
    port: int = 0
    _log: IO[str] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 20.0) -> MotoServer:
        binary = shutil.which("moto_server", path=str(Path(sys.executable).parent)) or shutil.which("moto_server")
        if binary is None:
            raise MotoUnavailable("moto_server is not installed (pip install 'moto[server]')")
        env = {**os.environ, "S3_UPLOAD_PART_MIN_SIZE": str(TEST_PART_BYTES), **self.env}
        # werkzeug logs every request: to a file, so no pipe can fill up and stall moto.
        self._log = tempfile.TemporaryFile("w+")  # noqa: SIM115 - closed by stop()
        self.proc = subprocess.Popen(
            [binary, "-H", "127.0.0.1", "-p", "0"],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while not self.port and time.monotonic() < deadline and self.proc.poll() is None:
            self._log.seek(0)
            found = re.search(r"Running on http://127\.0\.0\.1:(\d+)", self._log.read(4096))
            if found:
                self.port = int(found.group(1))
            else:
                time.sleep(0.05)
        while self.port and time.monotonic() < deadline:
            try:
                httpx.get(self.endpoint + "/moto-api/", timeout=1)
                return self
            except httpx.TransportError:
                time.sleep(0.05)
        self._log.seek(0)
        seen = self._log.read()[-500:]
        self.stop()
        raise MotoUnavailable(f"moto_server did not start: {seen}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._log is not None:
            self._log.close()

    def client(self, **config: Any) -> Any:
        """A boto3 client signed with the test pair, path-style (as cosflow's own)."""
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name=REGION,
            config=Config(s3={"addressing_style": "path"}, max_pool_connections=64, **config),
        )

    def new_bucket(self) -> str:
        name = f"cosflow-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def cosflow_env(self, bucket: str, prefix: str = "") -> dict[str, str]:
        """The ``COSFLOW_*`` settings that put a cosflow server's bytes in ``bucket``."""
        return {
            "COSFLOW_BLOB_STORE": "s3",
            "COSFLOW_S3_ENDPOINT_URL": self.endpoint,
            "COSFLOW_S3_BUCKET": bucket,
            "COSFLOW_S3_PREFIX": prefix,
            "COSFLOW_S3_REGION": REGION,
            "COSFLOW_S3_ACCESS_KEY_ID": ACCESS_KEY,
            "COSFLOW_S3_SECRET_ACCESS_KEY": SECRET_KEY,
        }
