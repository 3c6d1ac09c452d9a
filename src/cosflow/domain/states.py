"""States of workflows, queues, workflow instances and their tasks (spec §7.3, §8)."""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

E = TypeVar("E", bound=StrEnum)


class WorkflowState(StrEnum):
    ACTIVE = "Active"
    PAUSED = "Paused"


class QueueState(StrEnum):
    ACTIVE = "Active"
    PAUSED = "Paused"


class TaskState(StrEnum):
    SUBMITTED = "Submitted"
    RUNNING = "Running"
    SUCCESS = "Success"
    FAILED = "Failed"
    PAUSE = "Pause"
    CANCEL = "Cancel"

    @property
    def final(self) -> bool:
        return self in (TaskState.SUCCESS, TaskState.FAILED, TaskState.CANCEL)


class RunState(StrEnum):
    RUNNING = "Running"
    SUCCESS = "Success"
    FAILED = "Failed"
    CANCEL = "Cancel"


def parse_enum(kind: type[E], text: str) -> E | None:
    """Case-insensitive lookup (the docs mix ``On``/``on``, ``Active``/``active``)."""
    for member in kind:
        if member.value.lower() == text.strip().lower():
            return member
    return None
