"""Media and picture queues (spec §8)."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from cosflow.api.ci_common import id_list, page, path_id, request_body, respond
from cosflow.api.context import Call
from cosflow.domain import citimes
from cosflow.domain.ci import Queue
from cosflow.services.queues import CATEGORY


def queue_xml(queue: Queue) -> dict[str, Any]:
    notify = queue.notify
    return {
        "QueueId": queue.queue_id,
        "Name": queue.name,
        "State": queue.state,
        "NotifyConfig": {
            "Url": notify.url if notify else "",
            "Event": ",".join(notify.events) if notify else "",
            "Type": notify.type if notify else "Url",
            "State": notify.state if notify else "Off",
            "ResultFormat": notify.result_format if notify else "XML",
        },
        "MaxSize": queue.max_size,
        "MaxConcurrent": queue.max_concurrent,
        "UpdateTime": citimes.api(queue.updated_at),
        "CreateTime": citimes.api(queue.created_at),
        "Category": CATEGORY[queue.kind],
    }


async def _list(call: Call, kind: str) -> Response:
    number, size = page(call)
    total, queues, missing = await call.services.queues.list(
        call.bucket, kind, id_list(call, "queueIds", 10), call.query("state", "All"), number, size
    )
    return respond(
        call,
        {
            "TotalCount": total,
            "PageNumber": number,
            "PageSize": size,
            "QueueList": [queue_xml(q) for q in queues],
            "NonExistPIDs": missing,
        },
    )


async def _update(call: Call, kind: str) -> Response:
    queue_id = path_id(call)
    queue = await call.services.queues.update(call.bucket, kind, queue_id, await request_body(call))
    return respond(call, {"Queue": queue_xml(queue)})


async def list_queues(call: Call) -> Response:
    return await _list(call, "media")


async def list_pic_queues(call: Call) -> Response:
    return await _list(call, "picture")


async def update_queue(call: Call) -> Response:
    return await _update(call, "media")


async def update_pic_queue(call: Call) -> Response:
    return await _update(call, "picture")
