"""``python -m tests.support.testserver --port 0 --data-dir D``: the real server, with the test
processors of :mod:`tests.support.processors` registered (the composition root takes a registry;
nothing is looked up by dotted name in production)."""

from __future__ import annotations

import argparse
from pathlib import Path

from cosflow.cli import run_server
from cosflow.settings import load_settings
from tests.support.processors import test_registry


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--data-dir", type=Path, required=True)
    args = parser.parse_args()
    run_server(load_settings(host=args.host, port=args.port, data_dir=args.data_dir), test_registry())


if __name__ == "__main__":
    main()
