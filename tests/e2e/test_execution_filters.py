"""DescribeWorkflowExecutions (spec §6.8) on real runs (real FFmpeg, generated media, a real
callback receiver saying when they ended): every filter is honoured or refused, ``jobId`` included
(issue 8 §3.3)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from qcloud_cos import CosS3Client, CosServiceError

from tests.support.media import make_video
from tests.support.receiver import Receiver
from tests.support.templates import snapshot_template
from tests.support.workflows import as_list, node, runs_of, workflow_body

#: A well-formed batch (inventory trigger) job id that started none of these runs.
BATCH_JOB = "b3deffea2f84911ec9cb15254008618d9"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()


@pytest.fixture
def workflow(client: CosS3Client, bucket: str, receiver: Receiver, tmp_path: Path) -> str:
    """An Active workflow with two finished upload-triggered runs."""
    snap = snapshot_template(client, bucket)
    body = workflow_body(
        "listing",
        {"Start": "Snapshot_1", "Snapshot_1": "End"},
        {"Snapshot_1": node("Snapshot", "out/${InputName}.${Ext}", TemplateId=snap)},
        prefix="in/",
        state="Active",
        notify={"Url": receiver.url, "Type": "Url", "Event": "WorkflowFinish", "State": "On"},
    )
    workflow_id = client.ci_create_workflow(Bucket=bucket, Body=body)["MediaWorkflow"]["WorkflowId"]
    clip = make_video(tmp_path / "clip.mp4", seconds=1.0, width=160, height=120, fps=10, audio=False)
    for key in ("in/a.mp4", "in/b.mp4"):
        client.upload_file(Bucket=bucket, Key=key, LocalFilePath=str(clip))
    receiver.wait_for(2, timeout=120)
    return workflow_id


def test_batch_job_filter_never_returns_upload_triggered_runs(client: CosS3Client, bucket: str, workflow: str) -> None:
    assert {r["Object"] for r in runs_of(client, bucket, workflow)} == {"in/a.mp4", "in/b.mp4"}
    page = client.ci_list_workflowexecution(Bucket=bucket, WorkflowId=workflow, BatchJobId=BATCH_JOB)
    assert as_list(page.get("WorkflowExecutionList")) == [] and not page.get("NextToken")
    assert runs_of(client, bucket, workflow, BatchJobId=BATCH_JOB, States="Success", OrderByTime="Asc") == []
    # The other filters narrow as they say: an end bound before the runs, then after them.
    assert runs_of(client, bucket, workflow, EndCreationTime="2020-01-01T00:00:00+0800") == []
    assert len(runs_of(client, bucket, workflow, EndCreationTime="2099-01-01T00:00:00+0800")) == 2


@pytest.mark.parametrize(
    "job_id",
    ["j3deffea2f84911ec9cb15254008618d9", "b123", "B3DEFFEA2F84911EC9CB15254008618D9", "b" + "g" * 32, "b" * 200],
)
def test_a_malformed_batch_job_id_is_refused(client: CosS3Client, bucket: str, workflow: str, job_id: str) -> None:
    with pytest.raises(CosServiceError) as caught:
        client.ci_list_workflowexecution(Bucket=bucket, WorkflowId=workflow, BatchJobId=job_id)
    error = caught.value
    assert (error.get_status_code(), error.get_error_code()) == (400, "InvalidArgument")
    assert "jobId" in error.get_error_msg()


@pytest.mark.parametrize(
    "filters, named",
    [
        ({"WorkflowId": ""}, "workflowId"),
        ({"Size": 0}, "size"),
        ({"Size": 101}, "size"),
        ({"Size": "ten"}, "size"),
        ({"OrderByTime": "Newest"}, "orderByTime"),
        ({"States": "Done"}, "states"),
        ({"StartCreationTime": "yesterday"}, "startCreationTime"),
        ({"EndCreationTime": "2024-13-01T00:00:00+0800"}, "endCreationTime"),
        ({"NextToken": "abc"}, "nextToken"),
    ],
)
def test_every_other_malformed_filter_is_refused_by_name(
    client: CosS3Client, bucket: str, workflow: str, filters: dict[str, object], named: str
) -> None:
    arguments: dict[str, object] = {"WorkflowId": workflow, **filters}
    with pytest.raises(CosServiceError) as caught:
        client.ci_list_workflowexecution(Bucket=bucket, **arguments)
    error = caught.value
    assert (error.get_status_code(), error.get_error_code()) == (400, "InvalidArgument")
    assert named in error.get_error_msg() + error.get_resource_location()
