"""Routing cost: how long ``Router.resolve`` takes for the requests every deployment sees most.

    .venv/bin/python bench/routing_bench.py [--number 20000] [--repeat 7]

Prints, per request, the best of ``--repeat`` timeit runs, in microseconds per call. The headers
are a Starlette ``Headers`` as the server passes them (six, the official SDK's usual set).
"""

from __future__ import annotations

import argparse
import sys
import timeit
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from starlette.datastructures import Headers  # noqa: E402

from cosflow.api.routing import Router  # noqa: E402

HOST = "b-1250000000.cos.ap-guangzhou.myqcloud.com"
SDK_HEADERS = Headers(
    {
        "host": HOST,
        "user-agent": "cos-python-sdk-v5.1.9.44",
        "accept": "*/*",
        "accept-encoding": "gzip, deflate",
        "connection": "keep-alive",
        "authorization": "q-sign-algorithm=sha1&q-ak=AKID&q-sign-time=1;2&q-key-time=1;2&q-header-list=host"
        "&q-url-param-list=&q-signature=0",
    }
)
WORKFLOW_ID = "w" + "0123456789abcdef" * 2
CASES = {
    "GET /video/a.mp4, virtual host": (HOST, "GET", "/video/a.mp4", {}),
    "GET /<bucket>/video/a.mp4, path style": ("127.0.0.1:8080", "GET", "/b-1250000000/video/a.mp4", {}),
    "PUT /workflow/<id> (a CI call), virtual host": (HOST, "PUT", f"/workflow/{WORKFLOW_ID}", {}),
    "GET /in/pic.png?imageMogr2/thumbnail/64x, virtual host": (
        HOST,
        "GET",
        "/in/pic.png",
        {"imageMogr2/thumbnail/64x": ""},
    ),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    router = Router(("myqcloud.com",))
    for name, (host, method, path, query) in CASES.items():

        def once(host: str = host, method: str = method, path: str = path, query: dict[str, str] = query) -> None:
            router.resolve(host, method, path, query, SDK_HEADERS)

        runs = timeit.repeat(once, number=args.number, repeat=args.repeat)
        print(f"{name}: {min(runs) / args.number * 1e6:.1f} µs")


if __name__ == "__main__":
    main()
