"""The real ASGI app in this process, started through its own lifespan, with an HTTP client that
speaks ASGI to it: for integration tests that watch what one request does inside the server (its
SQL statements, its log records)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from cosflow.api.app import create_app
from cosflow.settings import Settings

#: Only named in URLs and signed Hosts: nothing listens on it.
PORT = 8123


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A started app for ``settings`` and a client whose base URL is ``http://127.0.0.1:PORT``."""
    app = create_app(settings)
    inbox: asyncio.Queue[dict[str, str]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, str]] = asyncio.Queue()
    lifespan = asyncio.ensure_future(app({"type": "lifespan"}, inbox.get, outbox.put))
    await inbox.put({"type": "lifespan.startup"})
    started = await outbox.get()
    assert started["type"] == "lifespan.startup.complete", started
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=f"http://127.0.0.1:{PORT}") as http:
            yield http
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        await lifespan
