"""``Expect: 100-continue`` answered with a refusal: the connection is closed, not left ambiguous.

A client that sends ``Expect: 100-continue`` (boto3 on every PUT, curl on large bodies) waits for
``100 Continue`` before sending the body. uvicorn sends that interim response only when the app
first reads the body; an app that refuses first (bad signature, missing bucket, a declared size
over a limit) never reads it, and the client may then either send the body anyway or skip it
(RFC 9110 §10.1.1). The server cannot tell which, so a kept-alive connection would read the next
request's bytes as this one's body: a spurious 400, or a hang when the declared body is large.

RFC 9110 §10.1.1 asks a server that answers before reading the content to say whether it will
close the connection or keep reading. This middleware says "close": when the app starts its
response without ever having asked for the body, ``Connection: close`` is added, and h11 (through
uvicorn) then closes the connection after the response. When the app did read the body, the
100 was sent and uvicorn drains whatever is left, as for any other request.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


def _expects_continue(scope: Scope) -> bool:
    return any(name == b"expect" and value.strip().lower() == b"100-continue" for name, value in scope["headers"])


class CloseUnreadContinue:
    """ASGI middleware: ``Connection: close`` on a response to an ``Expect: 100-continue`` request
    whose body the app never asked for."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _expects_continue(scope):
            await self.app(scope, receive, send)
            return
        asked = started = False

        async def receive_body() -> Message:
            nonlocal asked
            asked = asked or not started  # a read after the response starts sends no 100
            return await receive()

        async def send_response(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start" and not started:
                started = True
                if not asked:
                    message = {**message, "headers": [*message.get("headers", []), (b"Connection", b"close")]}
            await send(message)

        await self.app(scope, receive_body, send_response)
