"""Values of the callback outbox: one callback (an event for one URL) and its attempts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Callback:
    callback_id: str
    run_id: str
    seq: int
    event: str
    job_id: str
    url: str
    content_type: str
    body: str
    secret: str
    state: str  # pending | delivered | dead
    attempts: int
    next_attempt_at: datetime
    last_error: str
    created_at: datetime
    delivered_at: datetime | None


@dataclass(frozen=True)
class Attempt:
    attempted_at: datetime
    status_code: int | None
    latency_ms: int
    error: str
    response_body: str
