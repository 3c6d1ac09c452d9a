"""A bounded pool of asyncio workers in the server process; each runs one task at a time."""

from __future__ import annotations

import asyncio
import logging

from cosflow.executors.base import RunTask

log = logging.getLogger(__name__)


class InProcessExecutor:
    def __init__(self, run_task: RunTask, workers: int) -> None:
        self._run_task = run_task
        self._workers = workers
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        self._busy = 0
        self._tasks: list[asyncio.Task[None]] = []

    def free_slots(self) -> int:
        return max(0, self._workers - self._busy - self._queue.qsize())

    def submit(self, job_id: str) -> None:
        self._queue.put_nowait(job_id)

    async def start(self) -> None:
        self._tasks = [asyncio.create_task(self._work(), name=f"cosflow-worker-{i}") for i in range(self._workers)]

    async def _work(self) -> None:
        while True:
            job_id = await self._queue.get()
            self._busy += 1
            try:
                await self._run_task(job_id)
            except Exception:  # run_task records failures itself; this is a last resort
                log.exception("worker error", extra={"job_id": job_id})
            finally:
                self._busy -= 1

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
