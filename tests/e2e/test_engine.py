"""DAG semantics: branches run concurrently, fan-in waits for every parent and reads all their
outputs, failures propagate, and the executions list filters and pages."""

from __future__ import annotations

from datetime import datetime

import pytest
from qcloud_cos import CosS3Client
from qcloud_cos.cos_exception import CosServiceError
from sqlalchemy import select

from cosflow.db.engine import make_engine
from cosflow.db.tables import tasks
from tests.support.server import ServerProcess
from tests.support.templates import snapshot_template, transcode_template
from tests.support.workflows import as_list, fan_in_workflow, node, runs_of, wait_run, workflow_body


def _time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S%z")


def _tasks(execution: dict) -> dict[str, dict]:
    return {t["Name"]: t for t in as_list(execution.get("Tasks"))}




def _db_task_times(server: ServerProcess, run_id: str) -> dict[str, tuple[datetime, datetime | None]]:
    """node -> (created, ended) with the database's microseconds (the API's times are whole
    seconds: two moments in one second compare equal there, so ordering cannot be read from them)."""
    engine = make_engine(server.database_url)
    try:
        with engine.connect() as conn:
            query = select(tasks.c.node_key, tasks.c.created_at, tasks.c.ended_at).where(tasks.c.run_id == run_id)
            return {key: (created, ended) for key, created, ended in conn.execute(query)}
    finally:
        engine.dispose()


@pytest.mark.both_databases
def test_branches_run_concurrently_and_fan_in_waits_for_all(
    ci: CosS3Client, media_bucket: str, engine_server: ServerProcess
) -> None:
    workflow_id = fan_in_workflow(ci, media_bucket)
    ci.put_object(Bucket=media_bucket, Key="in/v.mp4", Body=b"sleep=2")
    run_id = runs_of(ci, media_bucket, workflow_id)[0]["RunId"]
    execution = wait_run(ci, media_bucket, run_id)
    assert execution["State"] == "Success"
    tasks = _tasks(execution)
    a, b, fan_in = tasks["Transcode_a"], tasks["Transcode_b"], tasks["PicProcess_1"]
    # Both branches slept 2 s and ran at the same time: each started before the other ended (one
    # after the other, the second would start at or after the first's end). An order, not a speed.
    assert _time(a["StartTime"]) < _time(b["EndTime"]) and _time(b["StartTime"]) < _time(a["EndTime"]), (a, b)
    assert (_time(a["EndTime"]) - _time(a["StartTime"])).total_seconds() >= 1
    # The fan-in task was created only after both parents ended, and read both outputs.
    times = _db_task_times(engine_server, run_id)
    parents_ended = [times[p][1] for p in ("Transcode_a", "Transcode_b")]
    assert None not in parents_ended and times["PicProcess_1"][0] >= max(parents_ended), times  # type: ignore[type-var]
    inputs = sorted(o["InputObjectName"] for o in as_list(fan_in["ResultInfo"]["ObjectInfo"]))
    assert inputs == ["a/v.mp4", "b/v.mp4"]
    for branch in ("a", "b"):
        out = ci.get_object(Bucket=media_bucket, Key=f"pp/{branch}/v.png")["Body"].get_raw_stream().read()
        assert out == b"PicProcess(Transcode(sleep=2))"
    assert fan_in["ResultInfo"]["ObjectCount"] == "2"
    for task in tasks.values():
        assert task["State"] == "Success" and task["JobId"].startswith("j") and len(task["JobId"]) == 33


@pytest.mark.both_databases
def test_failure_stops_descendants_and_fails_the_run(ci: CosS3Client, media_bucket: str) -> None:
    transcode = transcode_template(ci, media_bucket)
    snapshot = snapshot_template(ci, media_bucket)
    body = workflow_body(
        "failing",
        {
            "Start": "Transcode_1,Snapshot_side",
            "Transcode_1": "Snapshot_1",
            "Snapshot_1": "End",
            "Snapshot_side": "End",
        },
        {
            "Transcode_1": node("Transcode", "t/${InputName}.${Ext}", TemplateId=transcode),
            "Snapshot_1": node("Snapshot", "s/${InputName}.${Ext}", TemplateId=snapshot),
            "Snapshot_side": node("Snapshot", "side/${InputName}.${Ext}", TemplateId=snapshot),
        },
        state="Active",
    )
    workflow_id = ci.ci_create_workflow(Bucket=media_bucket, Body=body)["MediaWorkflow"]["WorkflowId"]
    ci.put_object(Bucket=media_bucket, Key="bad.mp4", Body=b"fail:Transcode")
    execution = wait_run(ci, media_bucket, runs_of(ci, media_bucket, workflow_id)[0]["RunId"])
    assert execution["State"] == "Failed"
    tasks = _tasks(execution)
    assert tasks["Transcode_1"]["State"] == "Failed"
    assert tasks["Transcode_1"]["Code"] == "TestFailure" and "told to fail" in tasks["Transcode_1"]["Message"]
    assert "Snapshot_1" not in tasks  # never run
    assert tasks["Snapshot_side"]["State"] == "Success"  # the other branch still ran
    assert execution["Code"] == "TestFailure" and "Transcode_1" in execution["Message"]


def test_executions_list_filters_orders_and_pages(ci: CosS3Client, media_bucket: str) -> None:
    transcode = transcode_template(ci, media_bucket)
    body = workflow_body(
        "listing",
        {"Start": "Transcode_1", "Transcode_1": "End"},
        {"Transcode_1": node("Transcode", "o/${InputName}.${Ext}", TemplateId=transcode)},
        state="Active",
        prefix="l/",
    )
    workflow_id = ci.ci_create_workflow(Bucket=media_bucket, Body=body)["MediaWorkflow"]["WorkflowId"]
    for n in range(5):
        ci.put_object(Bucket=media_bucket, Key=f"l/{n}.mp4", Body=b"fail:Transcode" if n == 3 else b"ok")
    every = runs_of(ci, media_bucket, workflow_id)
    for run in every:
        wait_run(ci, media_bucket, run["RunId"])
    assert len(every) == 5 and len({r["RunId"] for r in every}) == 5
    page = ci.ci_list_workflowexecution(Bucket=media_bucket, WorkflowId=workflow_id, Size=2, OrderByTime="Asc")
    first = as_list(page["WorkflowExecutionList"])
    assert len(first) == 2 and page["NextToken"]
    seen, token = [r["RunId"] for r in first], page["NextToken"]
    while token:
        page = ci.ci_list_workflowexecution(
            Bucket=media_bucket, WorkflowId=workflow_id, Size=2, OrderByTime="Asc", NextToken=token
        )
        seen += [r["RunId"] for r in as_list(page.get("WorkflowExecutionList"))]
        token = page.get("NextToken") or ""
    assert seen == list(reversed([r["RunId"] for r in every]))  # Asc is the reverse of the default Desc
    failed = runs_of(ci, media_bucket, workflow_id, States="Failed")
    assert [r["Object"] for r in failed] == ["l/3.mp4"]
    assert len(runs_of(ci, media_bucket, workflow_id, States="Success")) == 4
    named = runs_of(ci, media_bucket, workflow_id, Name="l/1.mp4")
    assert [r["Object"] for r in named] == ["l/1.mp4"]
    future = runs_of(ci, media_bucket, workflow_id, StartCreationTime="2099-01-01T00:00:00+0800")
    assert future == []
    past = runs_of(
        ci,
        media_bucket,
        workflow_id,
        StartCreationTime="2020-01-01T00:00:00+0800",
        EndCreationTime="2099-01-01T00:00:00+0800",
    )
    assert len(past) == 5
    for forged in ("\u00b2", "9" * 20, "-1"):  # a superscript digit, past 64 bits, negative
        with pytest.raises(CosServiceError) as caught:
            ci.ci_list_workflowexecution(Bucket=media_bucket, WorkflowId=workflow_id, NextToken=forged)
        assert caught.value.get_status_code() == 400 and caught.value.get_error_code() == "InvalidArgument"
