"""``api.expect.CloseUnreadContinue`` over a stand-in ASGI app (issue 9, defect 11)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from cosflow.api.expect import CloseUnreadContinue


def _run(expect: bool, reads_body: bool) -> list[dict[str, Any]]:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        if reads_body:
            await receive()
        await send({"type": "http.response.start", "status": 403, "headers": [(b"content-length", b"0")]})
        await send({"type": "http.response.body", "body": b""})

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    headers = [(b"host", b"h"), *([(b"expect", b"100-Continue")] if expect else [])]
    asyncio.run(CloseUnreadContinue(app)({"type": "http", "headers": headers}, receive, send))
    return sent


@pytest.mark.parametrize(
    "expect, reads_body, closes",
    [(True, False, True), (True, True, False), (False, False, False), (False, True, False)],
)
def test_connection_close_only_when_a_100_was_awaited_and_never_asked_for(
    expect: bool, reads_body: bool, closes: bool
) -> None:
    start = _run(expect, reads_body)[0]
    assert ((b"Connection", b"close") in start["headers"]) is closes
