"""The CI API's entry: requests the router recognised as CI operations land here.

Operation handlers register in :data:`HANDLERS` by the route names of ``routing.CI_ROUTES``.
An operation without a handler is answered with a CI-style ``NotImplemented`` error, never faked.
"""

from __future__ import annotations

from starlette.responses import Response

from cosflow.api import ci_executions, ci_queues, ci_templates, ci_workflows
from cosflow.api.context import Call, Handler
from cosflow.api.routing import match_ci
from cosflow.errors import InvalidArgument, NotImplementedOperation

HANDLERS: dict[str, Handler] = {
    "create_workflow": ci_workflows.create_workflow,
    "list_workflows": ci_workflows.list_workflows,
    "get_workflow": ci_workflows.get_workflow,
    "update_workflow": ci_workflows.update_workflow,
    "delete_workflow": ci_workflows.delete_workflow,
    "trigger_workflow": ci_workflows.trigger_workflow,
    "list_executions": ci_executions.list_executions,
    "get_execution": ci_executions.get_execution,
    "create_template": ci_templates.create_template,
    "list_templates": ci_templates.list_templates,
    "update_template": ci_templates.update_template,
    "delete_template": ci_templates.delete_template,
    "list_queues": ci_queues.list_queues,
    "update_queue": ci_queues.update_queue,
    "list_pic_queues": ci_queues.list_pic_queues,
    "update_pic_queue": ci_queues.update_pic_queue,
}


async def dispatch(call: Call) -> Response:
    request = call.request
    path = call.target.signed_paths[0]
    route = match_ci(request.method, path, request.query_params)
    if route is None:
        raise InvalidArgument(f"{request.method} {path} is not a CI operation", resource=path)
    handler = HANDLERS.get(route.name)
    if handler is None:
        raise NotImplementedOperation(f"the CI operation {route.name} is not available yet", resource=path)
    return await handler(call)
