"""Callback delivery benchmark: throughput of signed deliveries to a local receiver, and the
latency from an upload to its WorkflowStart callback. Writes a section of docs/benchmarks.md.

    .venv/bin/python bench/callbacks_bench.py [--count 5000] [--uploads 200] [--out docs/benchmarks.md]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.report import write_section  # noqa: E402

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
HEADING = "## Callbacks"


class FastReceiver:
    """A minimal keep-alive HTTP/1.1 receiver on asyncio streams, in its own thread, so the
    measurement is of the sender, not of a slow receiver."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.port = 0
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                await reader.readexactly(length)
                self.times.append(time.time())
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        server = self._loop.run_until_complete(asyncio.start_server(self._client, "127.0.0.1", 0, backlog=1024))
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    def start(self) -> FastReceiver:
        threading.Thread(target=self._run, daemon=True).start()
        self._ready.wait()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"


def _support() -> tuple[object, object]:
    sys.path.insert(0, str(ROOT))
    from tests.conftest import make_client
    from tests.support.server import ServerProcess

    return ServerProcess, make_client


def seed_callbacks(data_dir: Path, url: str, count: int) -> None:
    """Outbox rows as workflow runs would leave them (one per run, so none waits on another)."""
    from cosflow.db import callbacks as callback_rows
    from cosflow.db.engine import make_engine, migrate
    from cosflow.domain.deliveries import Callback

    data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(f"sqlite:///{data_dir / 'cosflow.db'}")
    migrate(engine)
    now = datetime.now(UTC)
    body = (ROOT / "docs" / "benchmarks.md").read_text()[:1500] if (ROOT / "docs/benchmarks.md").exists() else "x"
    with engine.begin() as conn:
        for _ in range(count):
            run_id = "i" + uuid.uuid4().hex
            callback_rows.add(
                conn,
                Callback(
                    "msg_" + uuid.uuid4().hex,
                    run_id,
                    1,
                    "WorkflowFinish",
                    "",
                    url,
                    "application/json",
                    body,
                    SECRET,
                    "pending",
                    0,
                    now,
                    "",
                    now,
                    None,
                ),
            )
    engine.dispose()


def throughput(count: int) -> dict[str, float]:
    server_cls, _ = _support()
    receiver = FastReceiver().start()
    with tempfile.TemporaryDirectory() as work:
        seed_callbacks(Path(work) / "data", receiver.url, count)
        started = time.time()
        server = server_cls(Path(work) / "data").start()  # type: ignore[operator]
        try:
            deadline = time.time() + 300
            while len(receiver.times) < count and time.time() < deadline:
                time.sleep(0.05)
        finally:
            server.stop()
    if len(receiver.times) < count:
        raise RuntimeError(f"only {len(receiver.times)} of {count} callbacks arrived")
    first, last = min(receiver.times), max(receiver.times)
    return {"count": count, "seconds": last - first, "per_second": count / (last - first), "startup": first - started}


def latency(uploads: int) -> list[float]:
    server_cls, make_client = _support()
    receiver = FastReceiver().start()
    with tempfile.TemporaryDirectory() as work:
        server = server_cls(Path(work) / "data", module="tests.support.testserver").start()  # type: ignore[operator]
        try:
            client = make_client(server.port)  # type: ignore[operator]
            client.create_bucket(Bucket="lat-1250000000")
            template = client.ci_create_template(
                Bucket="lat-1250000000", Template={"Tag": "Transcode", "Name": "t", "Container": {"Format": "mp4"}}
            )["Template"]["TemplateId"]
            notify = {"Url": receiver.url, "Type": "Url", "Event": "WorkflowStart", "ResultFormat": "JSON"}
            topology = {
                "Dependencies": {"Start": "Transcode_1", "Transcode_1": "End"},
                "Nodes": {
                    "Start": {"Type": "Start", "Input": {"ObjectPrefix": "", "NotifyConfig": notify}},
                    "Transcode_1": {"Type": "Transcode", "Operation": {"TemplateId": template}},
                },
            }
            client.ci_create_workflow(
                Bucket="lat-1250000000",
                Body={"MediaWorkflow": {"Name": "lat", "State": "Active", "Topology": topology}},
            )
            samples = []
            for n in range(uploads):
                before = len(receiver.times)
                sent = time.time()
                client.put_object(Bucket="lat-1250000000", Key=f"{n}.mp4", Body=b"x")
                while len(receiver.times) == before:
                    time.sleep(0.0005)
                samples.append((receiver.times[before] - sent) * 1000)
        finally:
            server.stop()
    return samples


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def section(result: dict[str, float], samples: list[float]) -> str:
    p50, p99 = percentile(samples, 50), percentile(samples, 99)
    rate = result["per_second"]
    rows = [
        (
            f"Signed deliveries per second ({int(result['count'])} callbacks)",
            f"{rate:.0f}/s",
            "≥ 1,000/s",
            rate >= 1000,
        ),
        (f"Upload → WorkflowStart latency, p50 ({len(samples)} uploads)", f"{p50:.1f} ms", "≤ 50 ms", p50 <= 50),
        ("Upload → WorkflowStart latency, p99", f"{p99:.1f} ms", "≤ 250 ms", p99 <= 250),
    ]
    table = "\n".join(f"| {m} | {r} | {t} | {'met' if ok else '**missed**'} |" for m, r, t, ok in rows)
    machine = f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}"
    return f"""{HEADING}

Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC with `bench/callbacks_bench.py`; {machine}.

| Measure | Result | Target | Status |
|---|---:|---:|---|
{table}

Deliveries are measured from the first to the last callback received (server start-up excluded);
the rows are seeded into the outbox before the server starts, one per run so none waits on
another, every one signed (Standard Webhooks, HMAC-SHA256) and posted over keep-alive connections
to an asyncio receiver on the same machine. Latency runs from just before `put_object` to the
receiver reading the WorkflowStart body; server, SDK client and receiver share the 2 cores.
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--uploads", type=int, default=200)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    args = parser.parse_args()
    result = throughput(args.count)
    print(f"delivered {result['count']:.0f} in {result['seconds']:.2f} s = {result['per_second']:.0f}/s")
    samples = latency(args.uploads)
    print(f"latency p50 {percentile(samples, 50):.1f} ms p99 {percentile(samples, 99):.1f} ms")
    write_section(args.out, HEADING, section(result, samples))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
