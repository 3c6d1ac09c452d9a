"""Helpers shared by the CI handlers: the <Response> envelope and list paging."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from starlette.responses import Response

from cosflow.api import xmlio
from cosflow.api.context import Call
from cosflow.errors import InvalidArgument, MalformedXML, XMLTooComplex

MAX_PAGE_SIZE = 100
#: Elements in one CI body. A stored template or workflow is rendered again in every listing
#: page (up to 100 of them), so CI bodies get a tighter bound than COS ones; the largest real
#: body, a workflow of dozens of nodes, has a few hundred.
MAX_CI_ELEMENTS = 5_000


def respond(call: Call, body: dict[str, Any]) -> Response:
    """Every CI response is XML with root <Response> and RequestId first (spec §6)."""
    payload = xmlio.render("Response", {"RequestId": call.request_id, **body})
    return Response(payload, media_type="application/xml")


async def request_body(call: Call) -> ET.Element:
    """The request XML; the CI API reports a bad body as InvalidArgument (spec §3.3), except one
    past the bounds (nesting, at most ``MAX_CI_ELEMENTS`` elements): 400 MalformedXML, as issue 9
    requires, before anything is stored (docs/design-choices.md "Bounded XML")."""
    try:
        return await xmlio.read_xml(call.request, call.services.settings.max_xml_bytes, MAX_CI_ELEMENTS)
    except XMLTooComplex:
        raise
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
