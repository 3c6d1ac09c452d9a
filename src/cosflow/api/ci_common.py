"""Helpers shared by the CI handlers: the <Response> envelope and list paging."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from starlette.responses import Response

from cosflow.api import xmlio
from cosflow.api.context import Call
from cosflow.errors import InvalidArgument, MalformedXML

MAX_PAGE_SIZE = 100


def respond(call: Call, body: dict[str, Any]) -> Response:
    """Every CI response is XML with root <Response> and RequestId first (spec §6)."""
    payload = xmlio.render("Response", {"RequestId": call.request_id, **body})
    return Response(payload, media_type="application/xml")


async def request_body(call: Call) -> ET.Element:
    """The request XML; the CI API reports a bad body as InvalidArgument (spec §3.3), not MalformedXML."""
    try:
        return await xmlio.read_xml(call.request, call.services.settings.max_xml_bytes)
    except MalformedXML as exc:
        raise InvalidArgument(exc.message) from exc


def path_id(call: Call) -> str:
    """The id a CI path ends with (``/workflow/<id>``, ``/template/<id>``, ``/queue/<id>``, ...)."""
    return call.target.signed_paths[0].rsplit("/", 1)[1]


def page(call: Call) -> tuple[int, int]:
    number = call.int_query("pageNumber", 1, 1, 1_000_000)
    size = call.int_query("pageSize", 10, 1, MAX_PAGE_SIZE)
    return number, size


def id_list(call: Call, name: str, limit: int = 100) -> list[str]:
    ids = [i.strip() for i in call.query(name).split(",") if i.strip()]
    if len(ids) > limit:
        raise InvalidArgument(f"{name} lists at most {limit} ids", resource=name)
    return ids
