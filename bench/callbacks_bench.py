"""Callback delivery benchmark: throughput of signed deliveries to a local receiver, the latency
from an upload to its WorkflowStart callback, and head-of-line isolation: how late a healthy
receiver's callbacks arrive while ten other destinations accept connections and never answer, beside
the same run with none hanging. Writes a section of docs/benchmarks.md.

    .venv/bin/python bench/callbacks_bench.py [--count 5000] [--uploads 200] [--runs 100]
        [--out docs/benchmarks.md]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
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
        #: arrival time by ``webhook-id`` (signed callbacks only)
        self.arrivals: dict[str, float] = {}
        self.port = 0
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length, webhook_id = 0, ""
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                    elif line.lower().startswith(b"webhook-id:"):
                        webhook_id = line.split(b":", 1)[1].strip().decode()
                await reader.readexactly(length)
                self.times.append(time.time())
                if webhook_id:
                    self.arrivals[webhook_id] = self.times[-1]
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
            _callback_workflow(client, "lat-1250000000", receiver.url, "WorkflowStart")
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


HANGING = 10


def _callback_workflow(
    client: object, bucket: str, url: str, events: str = "WorkflowStart,TaskFinish,WorkflowFinish"
) -> None:
    """A bucket whose uploads each start a one-task run that calls ``url`` at ``events``."""
    client.create_bucket(Bucket=bucket)  # type: ignore[attr-defined]
    template = client.ci_create_template(  # type: ignore[attr-defined]
        Bucket=bucket, Template={"Tag": "Transcode", "Name": "t", "Container": {"Format": "mp4"}}
    )["Template"]["TemplateId"]
    notify = {"Url": url, "Type": "Url", "Event": events, "ResultFormat": "JSON"}
    topology = {
        "Dependencies": {"Start": "Transcode_1", "Transcode_1": "End"},
        "Nodes": {
            "Start": {"Type": "Start", "Input": {"ObjectPrefix": "", "NotifyConfig": notify}},
            "Transcode_1": {"Type": "Transcode", "Operation": {"TemplateId": template}},
        },
    }
    client.ci_create_workflow(  # type: ignore[attr-defined]
        Bucket=bucket, Body={"MediaWorkflow": {"Name": "hol", "State": "Active", "Topology": topology}}
    )


def head_of_line(runs: int, hanging: int) -> tuple[list[float], list[int]]:
    """Seconds from each event (its outbox row's ``created_at``) to the healthy receiver reading
    the callback, for ``runs`` runs of three callbacks each, while ``hanging`` destinations each
    hold 5 runs' attempts open (callback_timeout 30 s, longer than the measurement); and the
    connections each hanging destination accepted."""
    server_cls, make_client = _support()
    from tests.support.receiver import HangingReceiver

    healthy = FastReceiver().start()
    hangers = [HangingReceiver().start() for _ in range(hanging)]
    env = {"COSFLOW_CALLBACK_TIMEOUT": "30", "COSFLOW_CALLBACK_SECRET": SECRET}
    with tempfile.TemporaryDirectory() as work:
        data = Path(work) / "data"
        server = server_cls(data, env=env, module="tests.support.testserver").start()  # type: ignore[operator]
        try:
            client = make_client(server.port)  # type: ignore[operator]
            for n, receiver in enumerate(hangers):
                _callback_workflow(client, f"hang{n}-1250000000", receiver.url)
                for k in range(5):
                    client.put_object(Bucket=f"hang{n}-1250000000", Key=f"{k}.mp4", Body=b"x")
            _callback_workflow(client, "healthy-1250000000", healthy.url)
            for k in range(runs):
                client.put_object(Bucket="healthy-1250000000", Key=f"{k}.mp4", Body=b"x")
            deadline = time.time() + 120
            while len(healthy.arrivals) < 3 * runs and time.time() < deadline:
                time.sleep(0.05)
        finally:
            server.stop()
            for receiver in hangers:
                receiver.stop()
        created = _created_at(data, healthy.url)
    if len(healthy.arrivals) < 3 * runs:
        raise RuntimeError(f"only {len(healthy.arrivals)} of {3 * runs} healthy callbacks arrived")
    return [healthy.arrivals[i] - created[i] for i in healthy.arrivals], [h.connections for h in hangers]


def _created_at(data_dir: Path, url: str) -> dict[str, float]:
    from sqlalchemy import select

    from cosflow.db.engine import make_engine
    from cosflow.db.tables import callbacks

    engine = make_engine(f"sqlite:///{data_dir / 'cosflow.db'}")
    with engine.connect() as conn:
        rows = conn.execute(select(callbacks.c.callback_id, callbacks.c.created_at).where(callbacks.c.url == url))
        found = {r.callback_id: r.created_at.timestamp() for r in rows}
    engine.dispose()
    return found


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def section(result: dict[str, float], samples: list[float], hol: list[float], reference: list[float]) -> str:
    p50, p99 = percentile(samples, 50), percentile(samples, 99)
    rate = result["per_second"]
    hol50, hol99 = percentile(hol, 50) * 1000, percentile(hol, 99) * 1000
    ref50, ref99 = percentile(reference, 50) * 1000, percentile(reference, 99) * 1000
    rows = [
        (
            f"Signed deliveries per second ({int(result['count'])} callbacks)",
            f"{rate:.0f}/s",
            "≥ 1,000/s",
            rate >= 1000,
        ),
        (f"Upload → WorkflowStart latency, p50 ({len(samples)} uploads)", f"{p50:.1f} ms", "≤ 50 ms", p50 <= 50),
        ("Upload → WorkflowStart latency, p99", f"{p99:.1f} ms", "≤ 250 ms", p99 <= 250),
        (
            f"Event → arrival at a healthy receiver, {HANGING} destinations hanging, p50 ({len(hol)} callbacks)",
            f"{hol50:.1f} ms ({hol50 / ref50:.1f}× the reference)",
            "≤ 1,000 ms",
            hol50 <= 1000,
        ),
        (
            f"Event → arrival, {HANGING} destinations hanging, p99",
            f"{hol99:.1f} ms ({hol99 / ref99:.1f}× the reference)",
            "≤ 1,000 ms",
            hol99 <= 1000,
        ),
        (f"Reference, none hanging: event → arrival, p50 ({len(reference)} callbacks)", f"{ref50:.1f} ms", "", True),
        ("Reference, none hanging: event → arrival, p99", f"{ref99:.1f} ms", "", True),
    ]
    table = "\n".join(f"| {m} | {r} | {t} | {('met' if ok else '**missed**') if t else ''} |" for m, r, t, ok in rows)
    machine = f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}"
    return f"""{HEADING}

Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC with `bench/callbacks_bench.py` at commit {_commit()}; {machine}.

| Measure | Result | Target | Status |
|---|---:|---:|---|
{table}

Deliveries are measured from the first to the last callback received (server start-up excluded);
the rows are seeded into the outbox before the server starts, one per run so none waits on
another, every one signed (Standard Webhooks, HMAC-SHA256) and posted over keep-alive connections
to an asyncio receiver on the same machine, with the default bounds (`callback_concurrency` 256,
`callback_destination_concurrency` 16: one destination has 16 attempts in flight at most). Latency
runs from just before `put_object` to the receiver reading the WorkflowStart body; server, SDK
client and receiver share the 2 cores.

Head of line: {HANGING} receivers accept connections and never answer, each sent the callbacks of 5
runs (`callback_timeout` 30 s, longer than the measurement, so their attempts stay in flight
throughout); then uploads start runs whose WorkflowStart, TaskFinish and WorkflowFinish go to one
healthy receiver. Each callback is timed from its event (the outbox row's `created_at`, written in
the transaction of the state change) to the receiver reading it. The reference is the same run with
no hanging destination. Before attempts were independent (a batch waited for its slowest attempt),
a healthy callback waited out the whole attempt timeout (47.4 s seen in issue 9).
"""


def _commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--uploads", type=int, default=200)
    parser.add_argument("--runs", type=int, default=100, help="healthy runs in the head-of-line case")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    args = parser.parse_args()
    result = throughput(args.count)
    print(f"delivered {result['count']:.0f} in {result['seconds']:.2f} s = {result['per_second']:.0f}/s")
    samples = latency(args.uploads)
    print(f"latency p50 {percentile(samples, 50):.1f} ms p99 {percentile(samples, 99):.1f} ms")
    reference, _ = head_of_line(args.runs, 0)
    hol, connections = head_of_line(args.runs, HANGING)
    for name, values in (("reference", reference), ("hanging", hol)):
        print(f"{name}: p50 {percentile(values, 50) * 1000:.1f} ms p99 {percentile(values, 99) * 1000:.1f} ms")
    print(f"connections held by the hanging destinations: {connections}")
    if not all(connections):
        raise RuntimeError("a hanging destination was never called: the case did not happen")
    write_section(args.out, HEADING, section(result, samples, hol, reference))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
