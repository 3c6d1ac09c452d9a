"""The scheduler over a real SQLite file. Fan-in: a node gets its task only once every parent
succeeded, after the last of them ended (microsecond times from the database, not the API's
seconds), with every parent's outputs as its inputs in parent order; a failed parent means no task
and a Failed run. Dispatch: each task goes to its queue (picture nodes to the picture queue, a
QueueId on Start to that queue), waits while its queue is paused, and is claimed within the queue's
MaxConcurrent.

The executor is left out: the test claims tasks and reports their results the way it would.
"""

from __future__ import annotations

import asyncio
import logging
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
import pytest
from sqlalchemy import Engine

from cosflow.db import callbacks as callback_rows
from cosflow.db import queues as queue_rows
from cosflow.db import runs as run_rows
from cosflow.db import templates as template_rows
from cosflow.db.engine import make_engine, migrate
from cosflow.domain.ci import Queue, Run, Task, Workflow
from cosflow.domain.topology import Template
from cosflow.services.buckets import BucketService
from cosflow.services.callbacks import CallbackRecorder
from cosflow.services.queues import ensure_defaults
from cosflow.services.scheduler import Scheduler, Wakeup
from cosflow.settings import Settings

BUCKET = "fan-1250000000"
UPLOAD = [BUCKET, "in/v.mp4"]
#: On the bucket's media queue, not the workflow: the scheduler must hand the queue to the recorder.
QUEUE_NOTIFY = (
    "<NotifyConfig><Url>http://127.0.0.1:9/hook</Url><Type>Url</Type>"
    "<Event>WorkflowStart,TaskFinish,WorkflowFinish</Event><State>On</State></NotifyConfig>"
)
WHEN = datetime(2026, 1, 1, tzinfo=UTC)


def _topology(deps: dict[str, str], start_input: str = "", template: str = "") -> str:
    """Nodes named P... are PicProcess, the others Transcode; ``template`` is every node's TemplateId."""
    nodes = {key for targets in deps.values() for key in targets.split(",")} | set(deps)
    template_xml = f"<TemplateId>{template}</TemplateId>" if template else ""
    node_xml = "".join(
        f"<{key}><Type>{'PicProcess' if key.startswith('P') else 'Transcode'}</Type><Operation>{template_xml}"
        f"<Output><Object>o/{key}/${{InputName}}.${{Ext}}</Object></Output></Operation></{key}>"
        for key in sorted(nodes - {"Start", "End"})
    )
    dep_xml = "".join(f"<{k}>{v}</{k}>" for k, v in deps.items())
    start = f"<Start><Type>Start</Type><Input><ObjectPrefix>in/</ObjectPrefix>{start_input}</Input></Start>"
    return f"<Topology><Dependencies>{dep_xml}</Dependencies><Nodes>{start}{node_xml}</Nodes></Topology>"


def _product(key: str) -> dict[str, str]:
    """One output in a task result, as the runner reports it."""
    return {"bucket": BUCKET, "key": key, "url": f"http://127.0.0.1/{BUCKET}/{key}", "input": UPLOAD[1]}


class World:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.wakes = 0
        self.scheduler = Scheduler(engine, self._wake, CallbackRecorder(Settings()))

    def _wake(self) -> None:
        self.wakes += 1

    def start(self, deps: dict[str, str], start_input: str = "", template: str = "") -> Run:
        workflow = Workflow("w1", BUCKET, "fan", "Active", _topology(deps, start_input, template), WHEN, WHEN)
        with self.engine.begin() as conn:
            return self.scheduler.start_run(conn, workflow, BUCKET, UPLOAD[1], [])

    def tasks(self, run: Run) -> dict[str, Task]:
        with self.engine.connect() as conn:
            return {t.node_key: t for t in run_rows.run_tasks(conn, run.run_id)}

    def run_state(self, run: Run) -> Run:
        with self.engine.connect() as conn:
            found = run_rows.get_run(conn, run.run_id)
        assert found is not None
        return found

    def callbacks(self, run: Run) -> list[tuple[str, str]]:
        """(event, job id) of every callback recorded for the run, in delivery order."""
        with self.engine.connect() as conn:
            return [(c.event, c.job_id) for c in callback_rows.search(conn, run_id=run.run_id)]

    def claim(self, limit: int = 100) -> list[str]:
        return anyio.run(self.scheduler.claim, limit)

    def queue(self, kind: str) -> Queue:
        with self.engine.connect() as conn:
            return queue_rows.bucket_queues(conn, BUCKET, kind)[0]

    def set_queue(self, queue: Queue, **changes: Any) -> Queue:
        changed = replace(queue, **changes)
        with self.engine.begin() as conn:
            queue_rows.update_queue(conn, changed)
        return changed

    def succeed(self, task: Task, *keys: str) -> None:
        self.scheduler.task_succeeded(task.job_id, {"objects": [_product(k) for k in keys]})


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    engine = make_engine(f"sqlite:///{tmp_path / 'cosflow.db'}")
    migrate(engine)

    async def create() -> None:
        await BucketService(engine, Settings()).create(BUCKET, None)

    anyio.run(create)
    with engine.begin() as conn:
        media = ensure_defaults(conn, BUCKET)["media"]
        queue_rows.update_queue(conn, replace(media, notify_xml=QUEUE_NOTIFY))
    yield World(engine)
    engine.dispose()


DIAMOND = {"Start": "A,B", "A": "C", "B": "C", "C": "End"}


def test_the_fan_in_task_waits_for_every_parent(world: World) -> None:
    run = world.start(DIAMOND)
    first = world.tasks(run)
    assert set(first) == {"A", "B"} and all(t.inputs == [UPLOAD] for t in first.values())
    assert sorted(world.claim()) == sorted(t.job_id for t in first.values())

    world.succeed(first["A"], "o/A/v.mp4")
    assert set(world.tasks(run)) == {"A", "B"}, "C was created while B was still running"
    assert world.claim() == []

    world.succeed(first["B"], "o/B/v.mp4", "o/B/v-1.mp4")
    tasks = world.tasks(run)
    assert set(tasks) == {"A", "B", "C"}
    c = tasks["C"]
    assert c.state == "Submitted"
    assert c.inputs == [[BUCKET, "o/A/v.mp4"], [BUCKET, "o/B/v.mp4"], [BUCKET, "o/B/v-1.mp4"]]
    ended = [tasks[p].ended_at for p in ("A", "B")]
    assert all(e is not None for e in ended)
    assert c.created_at >= max(ended), (c.created_at, ended)  # type: ignore[type-var]
    assert world.run_state(run).state == "Running"

    assert world.claim() == [c.job_id]
    world.succeed(c, "o/C/v.mp4")
    final = world.run_state(run)
    assert (final.state, final.code) == ("Success", "Success") and final.finished_at is not None


def test_parents_finishing_in_the_other_order_give_the_same_inputs(world: World) -> None:
    run = world.start(DIAMOND)
    first = world.tasks(run)
    world.claim()
    world.succeed(first["B"], "o/B/v.mp4")
    assert set(world.tasks(run)) == {"A", "B"}
    world.succeed(first["A"], "o/A/v.mp4")
    assert world.tasks(run)["C"].inputs == [[BUCKET, "o/A/v.mp4"], [BUCKET, "o/B/v.mp4"]]  # parent order


def test_a_failed_parent_means_no_fan_in_task_and_a_failed_run(world: World) -> None:
    run = world.start(DIAMOND)
    first = world.tasks(run)
    world.claim()
    world.succeed(first["A"], "o/A/v.mp4")
    world.scheduler.task_failed(first["B"].job_id, "TestFailure", "told to fail")
    assert set(world.tasks(run)) == {"A", "B"}
    final = world.run_state(run)
    assert (final.state, final.code) == ("Failed", "TestFailure")
    assert final.message == "task B failed: told to fail"


def test_a_node_under_start_and_a_task_reads_the_upload_and_the_parent(world: World) -> None:
    run = world.start({"Start": "A,C", "A": "C", "C": "End"})
    first = world.tasks(run)
    assert set(first) == {"A"}, "C has a task parent: it must wait for it"
    world.claim()
    world.succeed(first["A"], "o/A/v.mp4")
    assert world.tasks(run)["C"].inputs == [UPLOAD, [BUCKET, "o/A/v.mp4"]]


def test_a_duplicate_success_report_creates_nothing_twice(world: World) -> None:
    run = world.start({"Start": "A", "A": "B", "B": "End"})
    a = world.tasks(run)["A"]
    world.claim()
    world.succeed(a, "o/A/v.mp4")
    wakes = world.wakes
    world.succeed(a, "o/A/other.mp4")  # a redelivered report of a task already final
    tasks = world.tasks(run)
    assert len(tasks) == 2 and tasks["A"].result == {"objects": [_product("o/A/v.mp4")]}
    assert world.wakes == wakes


def test_a_chain_runs_node_after_node(world: World) -> None:
    run = world.start({"Start": "A", "A": "B", "B": "End"})
    seen: list[Any] = []
    for key in ("A", "B"):
        task = world.tasks(run)[key]
        seen.append(task.inputs)
        assert world.claim() == [task.job_id]
        world.succeed(task, f"o/{key}/v.mp4")
    assert seen == [[UPLOAD], [[BUCKET, "o/A/v.mp4"]]]
    assert world.run_state(run).state == "Success"


def test_every_transition_records_its_callback_in_order(world: World) -> None:
    run = world.start(DIAMOND)
    first = world.tasks(run)
    world.claim()
    world.succeed(first["A"], "o/A/v.mp4")
    world.succeed(first["B"], "o/B/v.mp4")
    c = world.tasks(run)["C"]
    world.claim()
    world.succeed(c, "o/C/v.mp4")
    assert world.callbacks(run) == [
        ("WorkflowStart", ""),
        ("TaskFinish", first["A"].job_id),
        ("TaskFinish", first["B"].job_id),
        ("TaskFinish", c.job_id),
        ("WorkflowFinish", ""),
    ]


def test_a_failure_records_its_task_finish_and_the_workflow_finish(world: World) -> None:
    run = world.start({"Start": "A", "A": "End"})
    a = world.tasks(run)["A"]
    world.claim()
    world.scheduler.task_failed(a.job_id, "TestFailure", "x")
    assert world.callbacks(run) == [("WorkflowStart", ""), ("TaskFinish", a.job_id), ("WorkflowFinish", "")]


def test_final_task_fields(world: World) -> None:
    run = world.start({"Start": "A,B", "A": "End", "B": "End"})
    first = world.tasks(run)
    world.claim()
    world.succeed(first["A"], "o/A/v.mp4")
    world.scheduler.task_failed(first["B"].job_id, "TestFailure", "y" * 5000)
    done = world.tasks(run)
    a, b = done["A"], done["B"]
    assert (a.state, a.code, a.message, a.progress) == ("Success", "Success", "", 100)
    assert a.ended_at is not None and a.result == {"objects": [_product("o/A/v.mp4")]}
    assert (b.state, b.code, b.message) == ("Failed", "TestFailure", "y" * 2000)  # kept to 2,000 characters
    assert b.ended_at is not None


def test_a_successful_run_has_no_message(world: World) -> None:
    run = world.start({"Start": "A", "A": "End"})
    world.claim()
    world.succeed(world.tasks(run)["A"], "o/A/v.mp4")
    final = world.run_state(run)
    assert (final.state, final.code, final.message) == ("Success", "Success", "")


def test_the_run_names_the_task_that_failed_first(world: World) -> None:
    """A and B fail in turn, B first: the run's code and message are B's (the earliest EndTime),
    whatever order the tasks are listed in."""
    run = world.start({"Start": "A,B", "A": "End", "B": "End"})
    first = world.tasks(run)
    world.claim()
    world.scheduler.task_failed(first["B"].job_id, "FirstFailure", "b broke")
    assert world.run_state(run).state == "Running"  # A is still running
    world.scheduler.task_failed(first["A"].job_id, "SecondFailure", "a broke")
    final = world.run_state(run)
    assert (final.state, final.code, final.message) == ("Failed", "FirstFailure", "task B failed: b broke")


def test_a_parent_result_without_an_objects_list_gives_no_inputs(world: World) -> None:
    run = world.start({"Start": "A", "A": "B", "B": "End"})
    world.claim()
    world.scheduler.task_succeeded(world.tasks(run)["A"].job_id, {})
    assert world.tasks(run)["B"].inputs == []


def test_a_finished_run_is_logged_with_its_state(world: World, caplog: pytest.LogCaptureFixture) -> None:
    run = world.start({"Start": "A", "A": "End"})
    world.claim()
    with caplog.at_level(logging.INFO, logger="cosflow.services.scheduler"):
        world.succeed(world.tasks(run)["A"], "o/A/v.mp4")
    finished = [r for r in caplog.records if r.getMessage() == "run finished"]
    assert len(finished) == 1
    record = finished[0]
    assert (record.action, record.run_id, record.state) == ("run_finish", run.run_id, "Success")  # type: ignore[attr-defined]


# --- dispatch ------------------------------------------------------------------------------------


def test_a_new_run_and_its_first_tasks(world: World, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="cosflow.services.scheduler"):
        run = world.start({"Start": "A", "A": "End"})
    stored = world.run_state(run)
    assert (stored.state, stored.code, stored.message, stored.finished_at) == ("Running", "", "", None)
    a = world.tasks(run)["A"]
    assert (a.state, a.code, a.message, a.progress, a.attempts, a.started_at) == ("Submitted", "", "", 0, 0, None)
    assert a.template_id == "" and a.template_name == ""
    started = [r for r in caplog.records if r.getMessage() == "run started"]
    assert [(r.action, r.run_id, r.workflow) for r in started] == [("run_start", run.run_id, "w1")]  # type: ignore[attr-defined]


def test_picture_nodes_go_to_the_picture_queue(world: World) -> None:
    run = world.start({"Start": "A,P", "A": "End", "P": "End"})
    tasks = world.tasks(run)
    assert tasks["A"].queue_id == world.queue("media").queue_id
    assert tasks["P"].queue_id == world.queue("picture").queue_id


def test_queue_ids_on_start_choose_the_queues(world: World) -> None:
    media, picture = world.queue("media"), world.queue("picture")
    with world.engine.begin() as conn:
        for queue in (replace(media, queue_id="p-media2"), replace(picture, queue_id="p-pic2")):
            queue_rows.insert_queue(conn, queue)
    start_input = "<QueueId>p-media2</QueueId><PicProcessQueueId>p-pic2</PicProcessQueueId>"
    tasks = world.tasks(world.start({"Start": "A,P", "A": "End", "P": "End"}, start_input))
    assert (tasks["A"].queue_id, tasks["P"].queue_id) == ("p-media2", "p-pic2")


def test_a_task_of_a_paused_queue_waits(world: World) -> None:
    world.set_queue(world.queue("media"), state="Paused")
    tasks = world.tasks(world.start({"Start": "A,P", "A": "End", "P": "End"}))
    assert (tasks["A"].state, tasks["P"].state) == ("Pause", "Submitted")
    assert world.claim() == [tasks["P"].job_id]  # the paused queue is skipped, the next one served


def test_claims_keep_within_max_concurrent_and_the_limit(world: World) -> None:
    world.set_queue(world.queue("media"), max_concurrent=1)
    run = world.start({"Start": "A,B,P", "A": "End", "B": "End", "P": "End"})
    tasks = world.tasks(run)
    first = world.claim(limit=1)
    assert len(first) == 1  # the limit holds across queues
    second = world.claim()
    claimed = set(first + second)
    assert len(claimed) == 2 and tasks["P"].job_id in claimed  # one media task at a time
    assert world.claim() == []  # the media queue's one slot is taken
    running = next(t for t in world.tasks(run).values() if t.job_id in claimed and t.node_key != "P")
    assert running.started_at is not None and running.attempts == 1
    world.succeed(running, "o/x.mp4")
    assert len(world.claim()) == 1  # the slot is free again


def test_a_task_names_its_template(world: World) -> None:
    with world.engine.begin() as conn:
        template = Template("tMINE", "mine", "Transcode", "Custom", ET.Element("Transcode"))
        template_rows.insert_template(conn, template, BUCKET, WHEN)
    task = world.tasks(world.start({"Start": "A", "A": "End"}, template="tMINE"))["A"]
    assert (task.template_id, task.template_name) == ("tMINE", "mine")
    gone = world.tasks(world.start({"Start": "A", "A": "End"}, template="tGONE"))["A"]
    assert (gone.template_id, gone.template_name) == ("tGONE", "")


def test_a_queue_over_its_max_concurrent_gets_nothing_more(world: World) -> None:
    """MaxConcurrent lowered below what is running: the room is negative, and nothing is claimed
    (a negative SQL LIMIT would mean no limit at all)."""
    media = world.set_queue(world.queue("media"), max_concurrent=2)
    world.start({"Start": "A,B,C", "A": "End", "B": "End", "C": "End"})
    assert len(world.claim()) == 2
    world.set_queue(media, max_concurrent=1)
    assert world.claim() == []


def test_wakeup_sets_every_bound_event_and_is_harmless_before_binding() -> None:
    wakeup = Wakeup()
    wakeup()  # no loop bound yet: nothing to wake, no error

    async def main() -> tuple[bool, bool]:
        first, second = wakeup.bind(), wakeup.bind()
        wakeup()
        await asyncio.sleep(0)  # the nudge is scheduled on the loop
        return first.is_set(), second.is_set()

    assert asyncio.run(main()) == (True, True)
