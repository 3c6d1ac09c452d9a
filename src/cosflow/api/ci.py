"""The CI API's entry: requests the router recognised as CI operations land here.

Operation handlers register in :data:`HANDLERS` by the row names of ``ci_table.CI_ROUTES``. An
operation without a handler is answered 501 ``NotImplemented`` naming the operation and its wire
form, before its body is read and before anything is looked up: it never changes data.
"""

from __future__ import annotations

from starlette.responses import Response

from cosflow.api import ci_executions, ci_queues, ci_templates, ci_workflows
from cosflow.api.ci_routes import ID_SHAPES, CiRoute
from cosflow.api.context import Call, Handler
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


def implemented(call: Call) -> bool:
    """Whether the CI operation a request was routed to has a handler."""
    route = call.target.ci
    return route is not None and route.name in HANDLERS


async def dispatch(call: Call) -> Response:
    """Run the handler of ``call``'s CI operation.

    Raises NotImplementedOperation when the operation has no handler (before anything else);
    InvalidArgument when the request matched no CI operation (only possible on a ``.ci.`` host,
    where every request is CI), when a bucket operation came with no bucket, or when a write's id
    is badly shaped (``ci_routes.ID_SHAPES``).
    """
    request = call.request
    route = call.target.ci
    if route is None:
        path = call.target.ci_path
        raise InvalidArgument(f"{request.method} {path} is not a CI operation", resource=path)
    handler = HANDLERS.get(route.name)
    if handler is None:
        operation = route.describe(request.method, request.query_params)
        raise NotImplementedOperation(
            f"the CI operation {operation} is not implemented by cosflow", resource=call.target.ci_path
        )
    if call.target.bucket is None and not route.service:
        raise InvalidArgument(f"the CI operation {route.api} needs a bucket host", resource=call.target.ci_path)
    _check_id(route, call.target.ci_path)
    return await handler(call)


def _check_id(route: CiRoute, path: str) -> None:
    """Raise InvalidArgument naming the id when a write matched its row with a badly shaped id
    (``PUT /workflow/wd34ca394909xxxxxxxxxxxx4d``, ``ci_routes.ID_LIKE``): it is refused here, never
    stored as an object nor looked up."""
    if route.id_placeholder is None or route.pattern.match(path):
        return
    name = route.id_placeholder.strip("<>")
    given = path.rsplit("/", 1)[1][:80]
    raise InvalidArgument(
        f"{name} {given!r} is not well formed: a {name} is {ID_SHAPES[route.id_placeholder]}",
        resource=name,
    )
