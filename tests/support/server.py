"""A real cosflow server process on 127.0.0.1 with an ephemeral port, for end-to-end tests."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.support import databases

SECRET_ID = "AKIDcosflowTestKey000000000000000001"
SECRET_KEY = "cosflowTestSecretKey0000000000001"
APPID = "1250000000"
REGION = "ap-guangzhou"
REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class ServerProcess:
    data_dir: Path
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[str] | None = None
    port: int = 0
    output: deque[str] = field(default_factory=lambda: deque(maxlen=5000))
    #: The module run with ``-m``: the real CLI, or the harness with test processors.
    module: str = "cosflow"
    #: ``sqlite`` (the data dir's file) or ``postgresql`` (a database of its own, kept for the
    #: data dir across restarts); ``COSFLOW_TEST_DATABASE`` chooses when a test does not.
    database: str = field(default_factory=databases.chosen)

    def cli_env(self) -> dict[str, str]:
        """What a ``cosflow`` command run on this server's data dir needs besides ``--data-dir``:
        the database URL when it is not the data dir's SQLite file."""
        return (
            {}
            if self.database == "sqlite" and "COSFLOW_DATABASE_URL" not in self.env
            else {"COSFLOW_DATABASE_URL": self.database_url}
        )

    @property
    def database_url(self) -> str:
        """The SQLAlchemy URL of the server's database (tests read rows through it)."""
        return self.env.get("COSFLOW_DATABASE_URL") or databases.url_for(self.database, self.data_dir)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> ServerProcess:
        chosen: dict[str, str] = {}
        if self.database == "postgresql" and "COSFLOW_DATABASE_URL" not in self.env:
            reason = databases.unavailable()
            if reason:
                pytest.skip(reason)
            chosen["COSFLOW_DATABASE_URL"] = databases.postgres_url(self.data_dir)
        env = {
            **os.environ,
            "COSFLOW_SECRET_ID": SECRET_ID,
            "COSFLOW_SECRET_KEY": SECRET_KEY,
            "COSFLOW_APPID": APPID,
            "COSFLOW_REGION": REGION,
            "PYTHONUNBUFFERED": "1",
            **chosen,
            **self.env,
        }
        port_arg = str(self.port) if self.port else "0"
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                self.module,
                *(["serve"] if self.module == "cosflow" else []),
                "--host",
                "127.0.0.1",
                "--port",
                port_arg,
                "--data-dir",
                str(self.data_dir),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
            cwd=REPO_ROOT,
            start_new_session=True,
        )
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        for line in self.proc.stdout:
            self.output.append(line)
            found = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
            if found:
                self.port = int(found.group(1))
                break
            if time.monotonic() > deadline:
                break
        drainer = threading.Thread(target=self._drain, daemon=True)
        drainer.start()
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                drainer.join(5)
                self._close()
                raise RuntimeError("cosflow exited during start:\n" + "".join(self.output))
            try:
                httpx.get(self.endpoint + "/", timeout=1)
                return self
            except httpx.TransportError:
                time.sleep(0.05)
        raise RuntimeError("cosflow did not start:\n" + "".join(self.output))

    def _drain(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            self.output.append(line)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._close()

    def _close(self) -> None:
        if self.proc and self.proc.stdout:
            self.proc.stdout.close()

    def kill(self) -> None:
        """kill -9: no shutdown code runs."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self._close()

    def rss_bytes(self) -> int:
        assert self.proc is not None
        with open(f"/proc/{self.proc.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        return 0
