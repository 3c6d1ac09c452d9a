"""The executor seam."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

RunTask = Callable[[str], Awaitable[None]]


class Executor(Protocol):
    def free_slots(self) -> int:
        """How many more task ids it can start now."""
        ...

    def submit(self, job_id: str) -> None: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...
