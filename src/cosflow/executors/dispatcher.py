"""The dispatch loop: claim runnable tasks (within queue limits and free executor slots), submit ids."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from cosflow.executors.base import Executor
from cosflow.services.scheduler import Scheduler, Wakeup

log = logging.getLogger(__name__)
#: Also look on a timer, so work created by another process (or a missed nudge) is not stranded.
POLL_SECONDS = 1.0


class Dispatcher:
    def __init__(self, scheduler: Scheduler, executor: Executor, wakeup: Wakeup) -> None:
        self._scheduler = scheduler
        self._executor = executor
        self._wakeup = wakeup
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        event = self._wakeup.bind()
        self._task = asyncio.create_task(self._loop(event), name="cosflow-dispatcher")

    async def _loop(self, event: asyncio.Event) -> None:
        while True:
            event.clear()
            try:
                room = self._executor.free_slots()
                for job_id in await self._scheduler.claim(room) if room else []:
                    self._executor.submit(job_id)
            except Exception:
                log.exception("dispatch failed; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), POLL_SECONDS)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
