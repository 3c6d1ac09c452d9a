"""The delivery log as a JSON API on the bare host (signed requests only):

- ``GET  /api/callbacks?run_id=&state=pending|delivered|dead&since=<ISO time>&limit=``
- ``GET  /api/callbacks/<id>`` with its ``body`` (the exact text sent) and every attempt
- ``POST /api/callbacks/<id>/redeliver``
- ``POST /api/callbacks/redeliver?since=<ISO time>`` (every dead callback since then)
"""

from __future__ import annotations

from typing import Any

from anyio import to_thread
from starlette.responses import JSONResponse, Response

from cosflow.api.context import Call
from cosflow.domain import citimes
from cosflow.domain.deliveries import Attempt, Callback
from cosflow.errors import AccessDenied, InvalidArgument, MethodNotAllowed


def _callback(c: Callback) -> dict[str, Any]:
    return {
        "id": c.callback_id,
        "run_id": c.run_id,
        "seq": c.seq,
        "event": c.event,
        "job_id": c.job_id,
        "url": c.url,
        "content_type": c.content_type,
        "state": c.state,
        "attempts": c.attempts,
        "next_attempt_at": c.next_attempt_at.isoformat(),
        "last_error": c.last_error,
        "created_at": c.created_at.isoformat(),
        "delivered_at": c.delivered_at.isoformat() if c.delivered_at else None,
    }


def _attempt(a: Attempt) -> dict[str, Any]:
    return {
        "attempted_at": a.attempted_at.isoformat(),
        "status": a.status_code,
        "latency_ms": a.latency_ms,
        "error": a.error,
        "response_body": a.response_body,
    }


def _since(call: Call) -> Any:
    raw = call.query("since")
    if not raw:
        return None
    try:
        return citimes.parse(raw)
    except ValueError as exc:
        raise InvalidArgument("since must be an ISO 8601 time", resource="since") from exc


async def handle(call: Call) -> Response:
    if call.principal.anonymous:
        raise AccessDenied("the callbacks API needs a signed request")
    service = call.services.callbacks
    segments = call.target.signed_paths[0].strip("/").split("/")
    method = call.request.method
    if segments[:2] != ["api", "callbacks"]:
        raise MethodNotAllowed(f"{method} {call.target.signed_paths[0]} is not a callbacks API operation")
    parts = segments[2:]
    if method == "GET" and not parts:
        found = await to_thread.run_sync(
            lambda: service.search(
                run_id=call.query("run_id"),
                state=call.query("state"),
                since=_since(call),
                limit=call.int_query("limit", 100, 1, 10000),
            )
        )
        return JSONResponse({"callbacks": [_callback(c) for c in found]})
    if method == "GET" and len(parts) == 1:
        callback, attempts = await to_thread.run_sync(service.show, parts[0])
        shown = {**_callback(callback), "body": callback.body}
        return JSONResponse({"callback": shown, "attempts": [_attempt(a) for a in attempts]})
    if method == "POST" and parts == ["redeliver"]:
        since = _since(call)
        if since is None:
            raise InvalidArgument("redeliver needs ?since=<ISO time>", resource="since")
        return JSONResponse({"redelivered": await to_thread.run_sync(service.redeliver_failed_since, since)})
    if method == "POST" and len(parts) == 2 and parts[1] == "redeliver":
        redelivered = await to_thread.run_sync(service.redeliver, [parts[0]])
        if not redelivered:
            raise InvalidArgument(f"callback {parts[0]} does not exist")
        return JSONResponse({"redelivered": redelivered})
    raise MethodNotAllowed(f"{method} {call.target.signed_paths[0]} is not a callbacks API operation")
