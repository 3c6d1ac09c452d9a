"""Workflow operations (spec §6): create, describe, update, switch state, delete, trigger."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from cosflow.api.ci_common import id_list, page, path_id, request_body, respond
from cosflow.api.context import Call
from cosflow.domain import citimes
from cosflow.domain.ci import Workflow
from cosflow.domain.states import WorkflowState
from cosflow.errors import InvalidArgument


def workflow_xml(workflow: Workflow) -> dict[str, Any]:
    return {
        "Name": workflow.name,
        "State": workflow.state,
        "WorkflowId": workflow.workflow_id,
        "BucketId": workflow.bucket,
        "CreateTime": citimes.api(workflow.created_at),
        "UpdateTime": citimes.api(workflow.updated_at),
        "Topology": workflow.topology_element,
    }


async def create_workflow(call: Call) -> Response:
    workflow = await call.services.workflows.create(call.bucket, await request_body(call))
    return respond(call, {"MediaWorkflow": workflow_xml(workflow)})


async def list_workflows(call: Call) -> Response:
    number, size = page(call)
    ids = id_list(call, "ids")
    total, items, missing = await call.services.workflows.list(call.bucket, ids, call.query("name"), number, size)
    return respond(
        call,
        {
            "MediaWorkflowList": [workflow_xml(w) for w in items],
            "NonExistIDs": missing,
            "TotalCount": total,
            "PageNumber": number,
            "PageSize": size,
        },
    )


async def get_workflow(call: Call) -> Response:
    workflow = await call.services.workflows.get(call.bucket, path_id(call))
    return respond(call, {"MediaWorkflowList": [workflow_xml(workflow)], "TotalCount": 1})


async def update_workflow(call: Call) -> Response:
    names = {k.lower() for k in call.request.query_params}
    switches = names & {"active", "paused"}
    if len(switches) > 1:
        raise InvalidArgument("name one of ?active or ?paused")
    if switches:
        state = WorkflowState.ACTIVE if "active" in switches else WorkflowState.PAUSED
        workflow = await call.services.workflows.set_state(call.bucket, path_id(call), state)
    else:
        workflow = await call.services.workflows.update(call.bucket, path_id(call), await request_body(call))
    return respond(call, {"MediaWorkflow": workflow_xml(workflow)})


async def delete_workflow(call: Call) -> Response:
    workflow_id = path_id(call)
    await call.services.workflows.delete(call.bucket, workflow_id)
    return respond(call, {"WorkflowId": workflow_id})


async def trigger_workflow(call: Call) -> Response:
    workflow_id, key = call.query("workflowId"), call.query("object")
    if not key:
        raise InvalidArgument("object names the object to process", resource="object")
    run = await call.services.workflows.trigger(call.bucket, workflow_id, key)
    return respond(call, {"InstanceId": run.run_id})
