"""A first end-to-end run: create a workflow with the SDK, upload, watch the run finish."""

from __future__ import annotations

from qcloud_cos import CosS3Client

from tests.support.templates import snapshot_template, transcode_template
from tests.support.workflows import as_list, node, runs_of, wait_run, workflow_body


def test_upload_runs_the_dag(ci: CosS3Client, media_bucket: str) -> None:
    transcode = transcode_template(ci, media_bucket)
    snapshot = snapshot_template(ci, media_bucket, count=2)
    body = workflow_body(
        "smoke",
        {"Start": "Transcode_1", "Transcode_1": "Snapshot_1", "Snapshot_1": "End"},
        {
            "Transcode_1": node("Transcode", "out/${InputName}.${Ext}", TemplateId=transcode),
            "Snapshot_1": node("Snapshot", "snaps/${InputName}-${Number}.${Ext}", TemplateId=snapshot),
        },
        prefix="in/",
        state="Active",
    )
    workflow = ci.ci_create_workflow(Bucket=media_bucket, Body=body)["MediaWorkflow"]
    ci.put_object(Bucket=media_bucket, Key="in/clip.mp4", Body=b"video", ContentType="video/mp4")
    runs = runs_of(ci, media_bucket, workflow["WorkflowId"])
    assert len(runs) == 1
    execution = wait_run(ci, media_bucket, runs[0]["RunId"])
    assert execution["State"] == "Success", execution
    tasks = as_list(execution["Tasks"])
    assert [t["Name"] for t in tasks] == ["Transcode_1", "Snapshot_1"]
    got = ci.get_object(Bucket=media_bucket, Key="out/clip.mp4")["Body"].get_raw_stream().read()
    assert got == b"Transcode(video)"
    for n in (0, 1):
        snap = ci.get_object(Bucket=media_bucket, Key=f"snaps/clip-{n}.jpg")["Body"].get_raw_stream().read()
        assert snap == b"Snapshot(Transcode(video))"
