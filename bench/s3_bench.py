"""The S3 blob store's cost: a 64 MiB PUT and GET through cosflow (official COS SDK, cosflow on
``blob_store = s3``) against the same PUT and GET sent to the S3 service directly with boto3.

The S3 service is moto's standalone server (``moto_server``), started here on 127.0.0.1: an
in-memory reference implementation, not a real store, so the figures show what cosflow adds on
top of an S3 round trip on this machine, not what MinIO or AWS would give.

    .venv/bin/python bench/s3_bench.py [--size-mib 64] [--runs 3] [--out docs/benchmarks.md]
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import io
import logging
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.report import write_section  # noqa: E402

HEADING = "## S3 blob store"
MIB = 1024 * 1024


def _best(runs: int, action: Callable[[], object]) -> float:
    """Median seconds of ``runs`` calls."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def measure(size: int, runs: int) -> dict[str, float]:
    from boto3.s3.transfer import TransferConfig
    from tests.conftest import make_client
    from tests.support.moto import MotoServer
    from tests.support.server import APPID, ServerProcess

    body = os.urandom(size)
    digest = hashlib.md5(body).hexdigest()
    moto = MotoServer(env={"S3_UPLOAD_PART_MIN_SIZE": str(5 * MIB)}).start()
    try:
        s3 = moto.client()
        direct, backing = moto.new_bucket(), moto.new_bucket()
        # boto3's managed transfer in 8 MiB parts, as cosflow's default s3_part_bytes.
        config = TransferConfig(multipart_threshold=8 * MIB, multipart_chunksize=8 * MIB)

        def direct_put() -> None:
            s3.upload_fileobj(io.BytesIO(body), direct, "bench.bin", Config=config)

        def direct_get() -> None:
            got = s3.get_object(Bucket=direct, Key="bench.bin")["Body"].read()
            assert hashlib.md5(got).hexdigest() == digest

        with tempfile.TemporaryDirectory() as tmp:
            server = ServerProcess(Path(tmp) / "data", env=moto.cosflow_env(backing)).start()
            try:
                cos = make_client(server.port)
                bucket = f"bench-{APPID}"
                cos.create_bucket(Bucket=bucket)

                def cosflow_put() -> None:
                    cos.put_object(Bucket=bucket, Key="bench.bin", Body=body)

                def cosflow_get() -> None:
                    got = cos.get_object(Bucket=bucket, Key="bench.bin")["Body"].get_raw_stream().read()
                    assert hashlib.md5(got).hexdigest() == digest

                return {
                    "direct_put": _best(runs, direct_put),
                    "direct_get": _best(runs, direct_get),
                    "cosflow_put": _best(runs, cosflow_put),
                    "cosflow_get": _best(runs, cosflow_get),
                }
            finally:
                server.stop()
    finally:
        moto.stop()


def render(size: int, runs: int, seconds: dict[str, float]) -> str:
    mb = size / 1_000_000

    def row(name: str, key: str, base: str) -> str:
        ratio = seconds[key] / seconds[base]
        return f"| {name} | {seconds[key] * 1000:.0f} ms | {mb / seconds[key]:.0f} MB/s | {ratio:.2f}× |"

    today = datetime.date.today().isoformat()
    return "\n".join(
        [
            f"{HEADING} ({size // MIB} MiB PUT and GET, against moto)",
            "",
            f"Median of {runs} runs, {today}, `bench/s3_bench.py`. The S3 service is moto's standalone",
            "server: an in-memory reference implementation on the same 2 cores, not a real store; the",
            "figures show what cosflow adds over a direct S3 round trip here, not what MinIO or AWS give.",
            "",
            "| Path | Time | Rate | vs direct |",
            "|---|---:|---:|---:|",
            row("PUT, boto3 straight to moto (managed upload, 8 MiB parts)", "direct_put", "direct_put"),
            row("PUT through cosflow (COS SDK → cosflow → S3 multipart, 8 MiB parts)", "cosflow_put", "direct_put"),
            row("GET, boto3 straight to moto", "direct_get", "direct_get"),
            row("GET through cosflow (COS SDK → cosflow → ranged GET)", "cosflow_get", "direct_get"),
            "",
            "A PUT through cosflow is received, hashed (MD5, the COS ETag) and sent on in 8 MiB parts",
            "while the body streams in, at most two parts in memory; a GET is one S3 GET (one per COS part",
            "for a multipart-uploaded object) streamed through in 256 KiB reads. Server, SDK client and moto",
            "share the machine.",
            "",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=64)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    args = parser.parse_args()
    logging.getLogger("qcloud_cos").setLevel(logging.WARNING)
    size = args.size_mib * MIB
    seconds = measure(size, args.runs)
    text = render(size, args.runs, seconds)
    print(text)
    write_section(args.out, HEADING, text)


if __name__ == "__main__":
    main()
