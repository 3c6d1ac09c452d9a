"""NotifyConfig (spec §5.3): where and how workflow events are posted."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from urllib.parse import urlsplit

from cosflow.errors import InvalidArgument

EVENTS = ("WorkflowStart", "TaskFinish", "WorkflowFinish")
FORMATS = ("XML", "JSON")


@dataclass(frozen=True)
class NotifyConfig:
    url: str
    events: tuple[str, ...]
    result_format: str = "XML"
    state: str = "On"
    type: str = "Url"
    #: cosflow extension: a per-workflow Standard Webhooks secret (NotifyConfig/SigningSecret).
    signing_secret: str = ""

    @property
    def enabled(self) -> bool:
        return self.state == "On" and bool(self.url)

    def wants(self, event: str) -> bool:
        return self.enabled and event in self.events


def _text(element: ET.Element, name: str) -> str:
    return (element.findtext(name) or "").strip()


def check_url(url: str, where: str) -> None:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises for a port out of range or not a number
    except ValueError as exc:
        raise InvalidArgument(f"{where}: NotifyConfig Url {url!r} is not a valid URL ({exc})") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidArgument(f"{where}: NotifyConfig Url must be an http:// or https:// URL, got {url!r}")


def parse_notify(element: ET.Element | None, where: str) -> NotifyConfig | None:
    """``None`` when absent (the queue's NotifyConfig then applies). Settings without a Url, Event,
    State or Type would be dropped with it, so they are refused."""
    if element is None or not any(_text(element, n) for n in ("Url", "Event", "State", "Type")):
        stray = [n for n in ("ResultFormat", "SigningSecret") if element is not None and _text(element, n)]
        if stray:
            raise InvalidArgument(f"{where}: NotifyConfig {stray[0]} applies only to a NotifyConfig with a Url")
        return None
    url = _text(element, "Url")
    state = {"on": "On", "off": "Off", "": "On" if url else "Off"}.get(_text(element, "State").lower())
    if state is None:
        raise InvalidArgument(f"{where}: NotifyConfig State must be On or Off")
    kind = _text(element, "Type") or "Url"
    if kind != "Url":
        raise InvalidArgument(f"{where}: NotifyConfig Type {kind!r} is not supported (only Url)")
    raw_events = [e.strip() for e in _text(element, "Event").split(",") if e.strip()]
    unknown = [e for e in raw_events if e not in EVENTS]
    if unknown:
        raise InvalidArgument(f"{where}: NotifyConfig Event {unknown[0]!r} is not one of {', '.join(EVENTS)}")
    result_format = (_text(element, "ResultFormat") or "XML").upper()
    if result_format not in FORMATS:
        raise InvalidArgument(f"{where}: NotifyConfig ResultFormat must be XML or JSON")
    if state == "On":
        if not url:
            raise InvalidArgument(f"{where}: NotifyConfig with State On needs a Url")
        check_url(url, where)
    secret = _text(element, "SigningSecret")
    if secret and not secret.startswith("whsec_"):
        raise InvalidArgument(f"{where}: NotifyConfig SigningSecret must look like whsec_<base64>")
    # No Event listed: every event is sent (the reference does not say; documented in docs/).
    return NotifyConfig(url, tuple(raw_events) or EVENTS, result_format, state, kind, secret)
