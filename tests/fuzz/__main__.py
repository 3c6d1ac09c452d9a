"""``python -m tests.fuzz [--requests N] [--seed S] [--report PATH]``: a fuzz run against a fresh
server in a scratch directory. Prints the figures and each kind found with one reproducer; exits
1 when anything was found or the server no longer stores and serves afterwards."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
from pathlib import Path

from tests.conftest import make_client
from tests.fuzz.health import still_serves
from tests.fuzz.run import fuzz, prepare, write
from tests.support.server import APPID, ServerProcess


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__)
    parser.add_argument("--requests", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--report", help="write every finding as JSON here")
    args = parser.parse_args(argv)
    logging.getLogger("qcloud_cos").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="cosflow-fuzz-") as scratch:
        server = ServerProcess(Path(scratch) / "data").start()
        try:
            client = make_client(server.port)
            state = prepare(client, APPID)
            report = fuzz(client, server.port, state, args.requests, args.seed)
            healthy = still_serves(client, state)
        finally:
            server.stop()
    summary = report.summary()
    if args.report:
        write(report, args.report)
    print(json.dumps({**summary, "still_serves": healthy}, indent=1, ensure_ascii=False, default=str))
    print(
        f"requests={report.requests} families={summary['families']} 5xx={summary['5xx']} "
        f"dropped={summary['dropped']} no_answer={summary['no_answer']} bad_error_body={summary['bad_error_body']} "
        f"kinds={len(summary['kinds'])} seconds={summary['seconds']} still_serves={healthy}"
    )
    return 0 if healthy and not report.findings else 1


if __name__ == "__main__":
    sys.exit(main())
