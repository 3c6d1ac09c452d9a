"""Reading workflow runs back: the executions list (with paging) and one run with its tasks."""

from __future__ import annotations

from anyio import to_thread
from sqlalchemy import Engine

from cosflow.db import runs as run_rows
from cosflow.db import workflows as workflow_rows
from cosflow.domain.ci import Run, RunFilter, Task
from cosflow.errors import InvalidArgument


class ExecutionService:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    async def list(
        self, bucket: str, workflow_id: str, wanted: RunFilter, *, offset: int, size: int
    ) -> tuple[list[Run], int | None]:
        """One page of runs and the offset of the next page (``None`` when this is the last)."""

        def run() -> tuple[list[Run], int | None]:
            with self._engine.connect() as conn:
                if workflow_rows.get_workflow(conn, bucket, workflow_id) is None:
                    raise InvalidArgument(f"workflow {workflow_id} does not exist in bucket {bucket}")
                rows = run_rows.list_runs(conn, workflow_id, wanted, offset=offset, limit=size + 1)
            return rows[:size], (offset + size if len(rows) > size else None)

        return await to_thread.run_sync(run)

    async def get(self, bucket: str, run_id: str) -> tuple[Run, list[Task]]:
        def run() -> tuple[Run, list[Task]]:
            with self._engine.connect() as conn:
                found = run_rows.get_run(conn, run_id)
                if found is None or found.bucket != bucket:
                    raise InvalidArgument(f"workflow execution {run_id} does not exist in bucket {bucket}")
                return found, run_rows.run_tasks(conn, run_id)

        return await to_thread.run_sync(run)
