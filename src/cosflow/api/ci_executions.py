"""Workflow executions (spec §6.8, §6.9): the list with filters and paging, and one run's detail."""

from __future__ import annotations

import re
from typing import Any

from starlette.responses import Response

from cosflow.api.ci_common import path_id, respond
from cosflow.api.context import Call
from cosflow.domain import citimes, xmldoc
from cosflow.domain.callbacks import result_info
from cosflow.domain.ci import RunFilter, Task
from cosflow.domain.numbers import plain_uint
from cosflow.domain.states import RunState
from cosflow.errors import InvalidArgument

STATES = {s.value for s in RunState}
#: A batch (inventory trigger) job id: ``b`` + 32 hex, as the real service issues them
#: (``b3deffea2f84911ec9cb15254008618d9`` in the DescribeInventoryTriggerJob reference).
_BATCH_JOB_ID = re.compile(r"^b[0-9a-f]{32}$")


def _time(call: Call, name: str) -> Any:
    raw = call.query(name)
    if not raw:
        return None
    try:
        return citimes.parse(raw)
    except ValueError as exc:
        raise InvalidArgument(f"{name} must look like 2024-05-08T11:05:09+0800", resource=name) from exc


def _states(call: Call) -> tuple[str, ...]:
    wanted = [s.strip() for s in call.query("states", "All").split(",") if s.strip()]
    unknown = [s for s in wanted if s != "All" and s not in STATES]
    if unknown:
        raise InvalidArgument(f"states may list All, {', '.join(sorted(STATES))}; got {unknown[0]!r}")
    return () if "All" in wanted else tuple(wanted)


def _batch_job_id(call: Call) -> str:
    job_id = call.query("jobId")
    if job_id and not _BATCH_JOB_ID.match(job_id):
        raise InvalidArgument(
            f"jobId must be a batch job id (b followed by 32 lower-case hex digits), got {job_id[:64]!r}",
            resource="jobId",
        )
    return job_id


async def list_executions(call: Call) -> Response:
    """DescribeWorkflowExecutions (spec §6.8). Every filter is honoured or refused with
    InvalidArgument naming it: ``workflowId`` (required), ``name`` (exact key), ``states``,
    ``orderByTime``, ``startCreationTime``/``endCreationTime``, ``size`` (1..100), ``nextToken``
    (one this server issued) and ``jobId`` (only runs that batch job started: none while batch
    triggers are not implemented)."""
    workflow_id = call.query("workflowId")
    if not workflow_id:
        raise InvalidArgument("workflowId is required", resource="workflowId")
    order = call.query("orderByTime", "Desc")
    if order not in ("Desc", "Asc"):
        raise InvalidArgument("orderByTime must be Desc or Asc", resource="orderByTime")
    token = call.query("nextToken")
    offset = plain_uint(token) if token else 0
    if offset is None:
        raise InvalidArgument("nextToken is not one this server issued", resource="nextToken")
    wanted = RunFilter(
        name=call.query("name"),
        states=_states(call),
        start=_time(call, "startCreationTime"),
        end=_time(call, "endCreationTime"),
        ascending=order == "Asc",
        batch_job_id=_batch_job_id(call),
    )
    runs, next_offset = await call.services.executions.list(
        call.bucket, workflow_id, wanted, offset=offset, size=call.int_query("size", 10, 1, 100)
    )
    entries = [
        {
            "RunId": r.run_id,
            "WorkflowId": r.workflow_id,
            "Object": r.object_key,
            "CreateTime": citimes.api(r.created_at),
            "State": r.state,
        }
        for r in runs
    ]
    return respond(call, {"WorkflowExecutionList": entries, "NextToken": str(next_offset or "")})


def task_xml(task: Task) -> dict[str, Any]:
    return {
        "Type": task.node_type,
        "Name": task.node_key,
        "JobId": task.job_id,
        "State": task.state,
        "CreateTime": citimes.api(task.created_at),
        "StartTime": citimes.api(task.started_at) if task.started_at else "",
        "EndTime": citimes.api(task.ended_at) if task.ended_at else "",
        "TemplateId": task.template_id,
        "TemplateName": task.template_name,
        "Code": task.code,
        "Message": task.message,
        "Progress": task.progress,
        "ResultInfo": result_info(task) if task.result is not None else None,
    }


async def get_execution(call: Call) -> Response:
    run_id = path_id(call)
    run, tasks = await call.services.executions.get(call.bucket, run_id)
    body = {
        "RunId": run.run_id,
        "WorkflowId": run.workflow_id,
        "WorkflowName": run.workflow_name,
        "State": run.state,
        "CreateTime": citimes.api(run.created_at),
        "Object": run.object_key,
        "Code": run.code or None,
        "Message": run.message or None,
        "Topology": xmldoc.stored(run.topology_xml, "Topology")[0],  # never fails for one bad row
        "Tasks": [task_xml(t) for t in tasks],
    }
    return respond(call, {"WorkflowExecution": body})
