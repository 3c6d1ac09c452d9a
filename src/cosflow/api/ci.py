"""The CI API's entry: requests the router recognised as CI operations land here.

Operation handlers register in :data:`HANDLERS` by the route names of ``routing.CI_ROUTES``.
An operation without a handler is answered with a CI-style ``NotImplemented`` error, never faked.
"""

from __future__ import annotations

from starlette.responses import Response

from cosflow.api.context import Call, Handler
from cosflow.api.routing import match_ci
from cosflow.errors import InvalidArgument, NotImplementedOperation

HANDLERS: dict[str, Handler] = {}


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
