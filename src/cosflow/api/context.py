"""What every handler receives: the request, its id, where it was routed, who is calling."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from cosflow.api.auth import Principal
from cosflow.api.routing import Target
from cosflow.domain.numbers import plain_uint
from cosflow.errors import InvalidArgument
from cosflow.wiring import Services


@dataclass(frozen=True)
class Call:
    request: Request
    request_id: str
    target: Target
    principal: Principal
    services: Services

    @property
    def bucket(self) -> str:
        assert self.target.bucket is not None
        return self.target.bucket

    @property
    def key(self) -> str:
        assert self.target.key is not None
        return self.target.key

    def query(self, name: str, default: str = "") -> str:
        """A query value; empty counts as absent (the SDK sends empty parameters)."""
        return self.request.query_params.get(name) or default

    def int_query(self, name: str, default: int, low: int, high: int) -> int:
        """A query number in ``low..high`` (``default`` when absent); anything but plain ASCII
        digits in that range is InvalidArgument naming the parameter (``domain.numbers``)."""
        raw = self.query(name)
        if not raw:
            return default
        value = plain_uint(raw)
        if value is None or not low <= value <= high:
            raise InvalidArgument(f"{name} must be an integer between {low} and {high}", resource=name)
        return value

    def content_length(self) -> int | None:
        raw = self.request.headers.get("content-length")
        if raw is None:
            return None
        length = plain_uint(raw)
        if length is None:
            raise InvalidArgument("Content-Length must be a non-negative integer", resource="Content-Length")
        return length

    @property
    def owner(self) -> dict[str, str]:
        appid = self.services.settings.appid
        return {"ID": f"qcs::cam::uin/{appid}:uin/{appid}", "DisplayName": appid}

    def bucket_host(self, bucket: str | None = None) -> str:
        settings = self.services.settings
        return f"{bucket or self.bucket}.cos.{settings.region}.{settings.domains[0]}"


Handler = Callable[[Call], Awaitable[Response]]
