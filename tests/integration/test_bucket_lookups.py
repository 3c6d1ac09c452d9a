"""What a presigned request costs the database, on the real ASGI app with a real SQLite file: a link
that opens as sent reads the bucket once, as the same request signed in the Authorization header does
(the NoSuchBucket hint of api/links.py comes from the handler's own lookup, not from another one)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, event

from cosflow.settings import KeyPair, Settings
from tests.conftest import make_client
from tests.support.asgi import PORT, running
from tests.support.server import SECRET_ID, SECRET_KEY

BUCKET = "lookups-1250000000"


class _BucketReads:
    """SQL statements that read the buckets table, counted while active."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "FROM buckets" in statement:
            self.count += 1

    def during(self, send: Callable[[], Any]) -> Callable[[], Any]:
        async def run() -> tuple[int, httpx.Response]:
            self.count = 0
            event.listen(Engine, "before_cursor_execute", self)
            try:
                resp = await send()
            finally:
                event.remove(Engine, "before_cursor_execute", self)
            return self.count, resp

        return run


def test_a_presigned_path_style_get_reads_the_bucket_as_often_as_a_header_signed_one(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, credentials=(KeyPair(SECRET_ID, SECRET_KEY),))
    sdk = make_client(PORT)
    key = f"{BUCKET}/a.txt"  # the SDK's IP/Port mode signs /<key>: here /<bucket>/a.txt, path style

    async def scenario() -> None:
        async with running(settings) as http:
            auth = sdk.get_auth(Method="PUT", Bucket=BUCKET, Key=f"{BUCKET}/")
            assert (await http.put(f"/{BUCKET}/", headers={"Authorization": auth})).status_code == 200
            auth = sdk.get_auth(Method="PUT", Bucket=BUCKET, Key=key)
            assert (await http.put(f"/{key}", content=b"bytes", headers={"Authorization": auth})).status_code == 200
            reads = _BucketReads()
            link = sdk.get_presigned_url(Bucket=BUCKET, Key=key, Method="GET")
            by_link, resp = await reads.during(lambda: http.get(link))()
            assert (resp.status_code, resp.content) == (200, b"bytes")
            auth = sdk.get_auth(Method="GET", Bucket=BUCKET, Key=key)
            by_header, resp = await reads.during(lambda: http.get(f"/{key}", headers={"Authorization": auth}))()
            assert (resp.status_code, resp.content) == (200, b"bytes")
            assert by_link == by_header, f"{by_link} bucket reads for the link, {by_header} for the header form"

    asyncio.run(scenario())
