"""Object transfer benchmark: a real cosflow server driven by the official COS SDK, compared with ``cp``.

Run: ``.venv/bin/python bench/objects_bench.py [--size-mib 1024] [--part-mib 8] [--out docs/benchmarks.md]``.
It writes (or replaces) the "Object transfer" section of the markdown file and prints a table.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import hashlib
import importlib
import logging
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from types import ModuleType
from typing import Any

import psutil
from qcloud_cos import CosConfig, CosS3Client
from rich.console import Console
from rich.table import Table

REPO_ROOT = Path(__file__).resolve().parent.parent
MIB = 1024 * 1024
MB = 1_000_000
FILE_CHUNK = 8 * MIB
SAMPLE_INTERVAL_S = 0.05
RSS_TARGET_MB = 150
CP_RATIO_TARGET = 0.5
SDK_TIMEOUT_S = 300
HEADING_PREFIX = "## Object transfer ("
DEFAULT_OUT = REPO_ROOT / "docs" / "benchmarks.md"
DEVNULL = Path(os.devnull)
CP_RUNS = 3


@dataclass(frozen=True)
class Measure:
    name: str
    seconds: float
    nbytes: int
    peak_rss: int | None = None
    server_cpu: float | None = None  # seconds of CPU (user + system) the server used during it

    @property
    def mb_per_s(self) -> float:
        return self.nbytes / MB / self.seconds if self.seconds > 0 else float("inf")


@dataclass(frozen=True)
class Step:
    name: str
    action: Callable[[], object]
    verify: Path | None = None


@dataclass(frozen=True)
class Report:
    args: argparse.Namespace
    started: datetime.datetime
    size: int
    measures: list[Measure]
    cp: Measure
    cp_runs: list[float]
    md5: Measure
    idle_rss: int
    peak_rss: int
    samples: int
    data_dir: Path


class RssSampler:
    """Samples the RSS of a process and its children every ``interval`` seconds in a daemon thread."""

    def __init__(self, pid: int, interval: float = SAMPLE_INTERVAL_S) -> None:
        self._proc = psutil.Process(pid)
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self.peak = 0
        self.phase_peak = 0
        self.samples = 0

    def read(self) -> int:
        total = 0
        for proc in [self._proc, *self._proc.children(recursive=True)]:
            with contextlib.suppress(psutil.NoSuchProcess):
                total += proc.memory_info().rss
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                rss = self.read()
            except psutil.NoSuchProcess:
                return
            self.peak = max(self.peak, rss)
            self.phase_peak = max(self.phase_peak, rss)
            self.samples += 1
            self._stop.wait(self._interval)

    def start(self) -> RssSampler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def cpu_seconds(self) -> float:
        total = 0.0
        for proc in [self._proc, *self._proc.children(recursive=True)]:
            with contextlib.suppress(psutil.NoSuchProcess):
                times = proc.cpu_times()
                total += times.user + times.system
        return total

    def take_phase_peak(self) -> int:
        peak, self.phase_peak = self.phase_peak, 0
        return peak


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mib", type=int, default=1024, help="size of the test file in MiB (default 1024)")
    parser.add_argument("--part-mib", type=int, default=8, help="multipart part size in MiB (default 8)")
    parser.add_argument("--threads", type=int, default=5, help="SDK MAXThread for upload/download_file (default 5)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="markdown file to update")
    parser.add_argument("--dir", type=Path, default=None, help="parent of the temp dir (default: system temp dir)")
    args = parser.parse_args(argv)
    if args.size_mib <= 0 or args.part_mib <= 0 or args.threads <= 0:
        parser.error("--size-mib, --part-mib and --threads must be positive")
    return args


def server_support() -> ModuleType:
    """Import tests.support.server; the script runs with bench/ (not the repo root) on sys.path."""
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    return importlib.import_module("tests.support.server")


def make_client(support: ModuleType, port: int) -> CosS3Client:
    config = CosConfig(
        Region=support.REGION,
        SecretId=support.SECRET_ID,
        SecretKey=support.SECRET_KEY,
        Scheme="http",
        IP="127.0.0.1",
        Port=port,
        ServiceDomain=f"127.0.0.1:{port}",
        Timeout=SDK_TIMEOUT_S,
    )
    return CosS3Client(config, retry=0)


def write_random_file(path: Path, size: int) -> None:
    with path.open("wb") as out:
        remaining = size
        while remaining:
            chunk = min(remaining, FILE_CHUNK)
            out.write(os.urandom(chunk))
            remaining -= chunk
        out.flush()
        os.fsync(out.fileno())


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as src:
        while chunk := src.read(FILE_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def put_stream(client: CosS3Client, bucket: str, key: str, src: Path) -> None:
    with src.open("rb") as body:
        client.put_object(Bucket=bucket, Key=key, Body=body)


def get_stream(client: CosS3Client, bucket: str, key: str, dest: Path) -> None:
    client.get_object(Bucket=bucket, Key=key)["Body"].get_stream_to_file(str(dest))


def curl(client: CosS3Client, port: int, bucket: str, key: str, method: str, path: Path) -> None:
    """The same request from curl (C, large buffers): the server's speed without the SDK's own cost."""
    host = f"{bucket}.cos.{client._conf._region}.myqcloud.com"
    auth = client.get_auth(Method=method, Bucket=bucket, Key=key, Headers={"Host": host})
    io_args = ["-T", str(path)] if method == "PUT" else ["-o", str(path)]
    url = f"http://127.0.0.1:{port}/{key}"
    command = ["curl", "-sS", "-f", "-H", f"Host: {host}", "-H", f"Authorization: {auth}", "-H", "Expect:", url]
    subprocess.run(command + io_args, check=True, stdout=subprocess.DEVNULL)


def transfer_steps(
    client: CosS3Client, port: int, bucket: str, src: Path, work: Path, args: argparse.Namespace
) -> list[Step]:
    part, threads = args.part_mib, args.threads
    mp_key, put_key = "bench/upload_file.bin", "bench/put_object.bin"
    mp_dest, stream_dest = work / "download_file.bin", work / "get_object.bin"
    curl_key, curl_dest = "bench/curl.bin", work / "curl.bin"
    return [
        Step(
            f"upload_file ({part} MiB parts, {threads} threads)",
            lambda: client.upload_file(
                Bucket=bucket, Key=mp_key, LocalFilePath=str(src), PartSize=part, MAXThread=threads
            ),
        ),
        Step(
            f"download_file ({part} MiB ranges, {threads} threads)",
            lambda: client.download_file(
                Bucket=bucket, Key=mp_key, DestFilePath=str(mp_dest), PartSize=part, MAXThread=threads
            ),
            verify=mp_dest,
        ),
        Step("put_object (Body=open file)", lambda: put_stream(client, bucket, put_key, src)),
        Step("get_object + get_stream_to_file", lambda: get_stream(client, bucket, put_key, stream_dest), stream_dest),
        Step("curl PUT (signed, one stream)", lambda: curl(client, port, bucket, curl_key, "PUT", src)),
        Step("curl GET (one stream)", lambda: curl(client, port, bucket, curl_key, "GET", curl_dest), curl_dest),
        Step("curl GET to /dev/null (no client disk)", lambda: curl(client, port, bucket, curl_key, "GET", DEVNULL)),
    ]


def verify_copy(expected_sha: str, path: Path, size: int) -> None:
    actual_size = path.stat().st_size
    actual_sha = sha256_file(path)
    if actual_size != size or actual_sha != expected_sha:
        raise RuntimeError(
            f"{path.name} differs from the source: {actual_size} bytes sha256 {actual_sha}, "
            f"expected {size} bytes sha256 {expected_sha}"
        )
    path.unlink()


def run_steps(steps: list[Step], sampler: RssSampler, src: Path, console: Console) -> list[Measure]:
    size = src.stat().st_size
    expected_sha = sha256_file(src)
    measures = []
    for step in steps:
        console.print(f"  {step.name} ...", end="")
        sampler.take_phase_peak()
        cpu_before = sampler.cpu_seconds()
        seconds = timed(step.action)
        cpu = sampler.cpu_seconds() - cpu_before
        measures.append(Measure(step.name, seconds, size, sampler.take_phase_peak(), cpu))
        console.print(f" {seconds:.2f} s", end="")
        if step.verify is not None:
            verify_copy(expected_sha, step.verify, size)
            console.print(" (sha256 ok)", end="")
        console.print()
    return measures


def time_cp(src: Path, dest: Path) -> tuple[Measure, list[float]]:
    """The median of a few ``cp + sync`` runs (this virtual disk varies a lot), and every run."""

    def copy() -> None:
        subprocess.run(["cp", str(src), str(dest)], check=True)
        subprocess.run(["sync", str(dest)], check=True)

    runs = []
    for _ in range(CP_RUNS):
        runs.append(timed(copy))
        dest.unlink()
    median = sorted(runs)[len(runs) // 2]
    return Measure(f"cp + sync (reference, median of {CP_RUNS})", median, src.stat().st_size), runs


def time_md5(src: Path) -> Measure:
    """md5 of the file from the page cache in this Python: the floor for one PUT stream, whose ETag
    the server must compute on one core."""

    def digest() -> None:
        md5 = hashlib.md5()
        with src.open("rb") as f:
            while chunk := f.read(FILE_CHUNK):
                md5.update(chunk)

    return Measure("md5 of the file, one core (floor for a single PUT)", timed(digest), src.stat().st_size)


def settle_idle_rss(sampler: RssSampler, duration: float = 0.5) -> int:
    """Lowest of a few readings over ``duration`` seconds once the bucket exists: the server's idle RSS."""
    readings = []
    deadline = time.monotonic() + duration
    while time.monotonic() < deadline:
        readings.append(sampler.read())
        time.sleep(SAMPLE_INTERVAL_S)
    return min(readings)


def benchmark(args: argparse.Namespace, work: Path, console: Console) -> Report:
    support = server_support()
    started = datetime.datetime.now().astimezone()
    src = work / "source.bin"
    console.print(f"writing {args.size_mib} MiB of random data to {src}")
    write_random_file(src, args.size_mib * MIB)
    server = support.ServerProcess(work / "data")
    try:
        server.start()
        sampler = RssSampler(server.proc.pid).start()
        try:
            client = make_client(support, server.port)
            bucket = f"bench-{support.APPID}"
            client.create_bucket(Bucket=bucket)
            idle = settle_idle_rss(sampler)
            console.print(f"server on port {server.port}, idle RSS {idle / MB:.1f} MB")
            measures = run_steps(transfer_steps(client, server.port, bucket, src, work, args), sampler, src, console)
        finally:
            sampler.stop()
    except BaseException:
        console.print("[red]benchmark failed; last server output:[/red]")
        sys.stderr.write("".join(server.output)[-4000:])
        raise
    finally:
        server.stop()
    cp, cp_runs = time_cp(src, work / "cp.bin")
    md5 = time_md5(src)
    return Report(
        args, started, src.stat().st_size, measures, cp, cp_runs, md5, idle, sampler.peak, sampler.samples, work
    )


def size_label(size: int) -> str:
    if size >= 1024 * MIB and size % (1024 * MIB) == 0:
        return f"{size // (1024 * MIB)} GiB"
    return f"{size / MIB:g} MiB"


def filesystem_of(path: Path) -> str:
    best: Any = None
    resolved = str(path.resolve())
    for part in psutil.disk_partitions(all=True):
        inside = resolved == part.mountpoint or resolved.startswith(part.mountpoint.rstrip("/") + "/")
        if inside and (best is None or len(part.mountpoint) > len(best.mountpoint)):
            best = part
    return "unknown filesystem" if best is None else f"{best.fstype} ({best.device} on {best.mountpoint})"


def cpu_model() -> str:
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def git_revision() -> str:
    def git(*cmd: str) -> str:
        return subprocess.run(["git", *cmd], cwd=REPO_ROOT, capture_output=True, text=True, check=True).stdout

    try:
        rev = git("rev-parse", "--short", "HEAD").strip()
        return rev + (" + uncommitted changes" if git("status", "--porcelain").strip() else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def machine_line(data_dir: Path) -> str:
    ram = psutil.virtual_memory().total / 1024**3
    return (
        f"{os.cpu_count()} CPUs ({cpu_model()}), {ram:.1f} GiB RAM, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, cos-python-sdk-v5 {metadata.version('cos-python-sdk-v5')}; "
        f"files on {filesystem_of(data_dir)}"
    )


def ratio(measure: Measure, cp: Measure) -> float:
    return measure.mb_per_s / cp.mb_per_s


def targets(report: Report) -> list[tuple[str, str, bool]]:
    """(target, result, met) for each target of the issue."""
    peak_mb = report.peak_rss / MB
    slow = [m for m in report.measures if ratio(m, report.cp) < CP_RATIO_TARGET]
    worst = min(report.measures, key=lambda m: ratio(m, report.cp))
    speed = f"slowest {worst.name} at {ratio(worst, report.cp):.2f}x; {len(slow)} of {len(report.measures)} below"
    return [
        (f"Server RSS under {RSS_TARGET_MB} MB throughout", f"peak {peak_mb:.1f} MB", peak_mb < RSS_TARGET_MB),
        (f"Throughput at least {CP_RATIO_TARGET:g}x cp, every operation", speed, not slow),
    ]


def targets_rows(report: Report) -> list[str]:
    rows = ["| Target | Result | Status |", "|---|---|---|"]
    for target, result, ok in targets(report):
        rows.append(f"| {target} | {result} | {'met' if ok else '**missed**'} |")
    return rows


def operation_rows(report: Report) -> list[str]:
    rows = [
        "| Operation | Seconds | MB/s | vs cp | Server CPU (s) | Server peak RSS during it (MB) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for m in [*report.measures, report.cp, report.md5]:
        rss = "–" if m.peak_rss is None else f"{m.peak_rss / MB:.1f}"
        cpu = "–" if m.server_cpu is None else f"{m.server_cpu:.2f}"
        rows.append(f"| {m.name} | {m.seconds:.2f} | {m.mb_per_s:.1f} | {ratio(m, report.cp):.2f}x | {cpu} | {rss} |")
    return rows


def command_line(args: argparse.Namespace) -> str:
    return f"bench/objects_bench.py --size-mib {args.size_mib} --part-mib {args.part_mib} --threads {args.threads}"


def render_section(report: Report) -> str:
    lines = [
        f"{HEADING_PREFIX}{size_label(report.size)} through the official SDK)",
        "",
        f"Run {report.started:%Y-%m-%d %H:%M %Z} with `{command_line(report.args)}` (commit {git_revision()}).",
        "",
        f"Machine: {machine_line(report.data_dir)}.",
        "",
        *operation_rows(report),
        "",
        f"Server RSS (process and children, sampled every {SAMPLE_INTERVAL_S * 1000:.0f} ms, "
        f"{report.samples} samples): idle {report.idle_rss / MB:.1f} MB before transfers, "
        f"peak {report.peak_rss / MB:.1f} MB over the run.",
        "",
        *targets_rows(report),
        "",
        "Notes: MB = 10^6 bytes. The source is random data written just before the run, on the same disk as the "
        "server's data dir, and every download was checked byte-identical by sha256. The page cache cannot be "
        "dropped here, so all reads of the source come from a warm cache; `cp` (followed by `sync` of the copy, "
        "as the server fsyncs what it stores) runs after the transfers so it gets no colder a start than they did; "
        f"its runs took {', '.join(f'{r:.2f}' for r in report.cp_runs)} s. Server CPU is user + system time of the "
        "server process over the operation; on a 2-CPU machine the client shares the same two cores.",
        "",
    ]
    return "\n".join(lines)


def replace_section(text: str, section: str) -> str:
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.startswith(HEADING_PREFIX)), None)
    if start is None:
        return text.rstrip("\n") + "\n\n" + section if text.strip() else "# Benchmarks\n\n" + section
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    tail = "".join(lines[end:])
    return "".join(lines[:start]) + section + ("\n" + tail if tail else "")


def write_markdown(path: Path, section: str) -> None:
    existing = path.read_text() if path.exists() else ""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(replace_section(existing, section))


def print_tables(report: Report, console: Console) -> None:
    table = Table(title=f"Object transfer, {size_label(report.size)}")
    for column in ("Operation", "Seconds", "MB/s", "vs cp", "Peak RSS MB"):
        table.add_column(column, justify="left" if column == "Operation" else "right", no_wrap=column != "Operation")
    for m in [*report.measures, report.cp, report.md5]:
        rss = "–" if m.peak_rss is None else f"{m.peak_rss / MB:.1f}"
        table.add_row(m.name, f"{m.seconds:.2f}", f"{m.mb_per_s:.1f}", f"{ratio(m, report.cp):.2f}x", rss)
    console.print(table)
    console.print(f"server RSS: idle {report.idle_rss / MB:.1f} MB, peak {report.peak_rss / MB:.1f} MB")
    goals = Table(title="Targets")
    for column in ("Target", "Result", "Status"):
        goals.add_column(column)
    for target, result, ok in targets(report):
        goals.add_row(target, result, "[green]met[/green]" if ok else "[red]missed[/red]")
    console.print(goals)


@contextlib.contextmanager
def work_dir(parent: Path | None) -> Iterator[Path]:
    if parent is not None:
        parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="cosflow-bench-", dir=parent) as tmp:
        yield Path(tmp)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.getLogger("qcloud_cos").setLevel(logging.WARNING)
    console = Console()
    with work_dir(args.dir) as work:
        report = benchmark(args, work, console)
    print_tables(report, console)
    write_markdown(args.out, render_section(report))
    console.print(f"wrote section to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
