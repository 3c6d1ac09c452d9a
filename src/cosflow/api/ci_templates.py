"""Template operations (spec §10.1)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from starlette.responses import Response

from cosflow.api.ci_common import id_list, page, path_id, request_body, respond
from cosflow.api.context import Call
from cosflow.domain import citimes
from cosflow.domain.schemas import RESPONSE_CONTAINERS
from cosflow.domain.topology import Template


def template_xml(call: Call, stored: tuple[Template, datetime, datetime]) -> dict[str, Any]:
    template, created, updated = stored
    children = list(template.body)
    inner = children[0] if len(children) == 1 and children[0].tag == template.tag else template.body
    return {
        "TemplateId": template.template_id,
        "Name": template.name,
        "Tag": template.tag,
        "BucketId": call.bucket if template.category == "Custom" else "",
        "Category": template.category,
        "CreateTime": citimes.api(created),
        "UpdateTime": citimes.api(updated),
        RESPONSE_CONTAINERS.get(template.tag, (template.tag,))[0]: inner,
    }


async def create_template(call: Call) -> Response:
    stored = await call.services.templates.create(call.bucket, await request_body(call))
    return respond(call, {"Template": template_xml(call, stored)})


async def update_template(call: Call) -> Response:
    stored = await call.services.templates.update(call.bucket, path_id(call), await request_body(call))
    return respond(call, {"Template": template_xml(call, stored)})


async def delete_template(call: Call) -> Response:
    template_id = path_id(call)
    await call.services.templates.delete(call.bucket, template_id)
    return respond(call, {"TemplateId": template_id})


async def list_templates(call: Call) -> Response:
    number, size = page(call)
    tag = call.query("tag", "All")
    total, items = await call.services.templates.list(
        call.bucket,
        call.query("category", "Custom"),
        "" if tag == "All" else tag,
        id_list(call, "ids"),
        call.query("name"),
        number,
        size,
    )
    return respond(
        call,
        {
            "TotalCount": total,
            "PageNumber": number,
            "PageSize": size,
            "TemplateList": [template_xml(call, s) for s in items],
        },
    )
