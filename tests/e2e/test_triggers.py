"""Which writes start workflows: PUT, POST form, multipart completion, copy; prefix and ExtFilter."""

from __future__ import annotations

import pytest
from qcloud_cos import CosS3Client

from tests.e2e.test_post_object import _form, _post
from tests.support.server import ServerProcess
from tests.support.templates import transcode_template
from tests.support.workflows import node, runs_of, wait_run, workflow_body


def _workflow(ci: CosS3Client, bucket: str, prefix: str = "", state: str = "Active", **kwargs: object) -> str:
    template = transcode_template(ci, bucket)
    body = workflow_body(
        "trigger",
        {"Start": "Transcode_1", "Transcode_1": "End"},
        {"Transcode_1": node("Transcode", "out/${InputName}.${Ext}", TemplateId=template)},
        prefix=prefix,
        state=state,
        **kwargs,  # type: ignore[arg-type]
    )
    return ci.ci_create_workflow(Bucket=bucket, Body=body)["MediaWorkflow"]["WorkflowId"]


def _objects(ci: CosS3Client, runs: list[dict[str, str]]) -> list[str]:
    return sorted(r["Object"] for r in runs)


@pytest.mark.both_databases
def test_every_kind_of_upload_triggers(ci: CosS3Client, media_bucket: str, engine_server: ServerProcess) -> None:
    workflow_id = _workflow(ci, media_bucket, prefix="in/")
    ci.put_object(Bucket=media_bucket, Key="in/put.mp4", Body=b"put")
    fields = _form(media_bucket, [{"bucket": media_bucket}, {"key": "in/form.mp4"}]) | {"key": "in/form.mp4"}
    assert _post(engine_server, media_bucket, fields, b"form").status_code == 204
    upload_id = ci.create_multipart_upload(Bucket=media_bucket, Key="in/multi.mp4")["UploadId"]
    etag = ci.upload_part(Bucket=media_bucket, Key="in/multi.mp4", Body=b"multi", PartNumber=1, UploadId=upload_id)
    ci.complete_multipart_upload(
        Bucket=media_bucket,
        Key="in/multi.mp4",
        UploadId=upload_id,
        MultipartUpload={"Part": [{"PartNumber": 1, "ETag": etag["ETag"]}]},
    )
    ci.put_object(Bucket=media_bucket, Key="elsewhere/src.mp4", Body=b"copy")
    source = {"Bucket": media_bucket, "Key": "elsewhere/src.mp4", "Region": "ap-guangzhou"}
    ci.copy_object(Bucket=media_bucket, Key="in/copy.mp4", CopySource=source)
    runs = runs_of(ci, media_bucket, workflow_id)
    assert _objects(ci, runs) == ["in/copy.mp4", "in/form.mp4", "in/multi.mp4", "in/put.mp4"]
    for run in runs:
        assert wait_run(ci, media_bucket, run["RunId"])["State"] == "Success"
    # Outputs (out/...) were written by the workflow and started nothing, even with a matching prefix.
    assert ci.get_object(Bucket=media_bucket, Key="out/put.mp4")["Body"].get_raw_stream().read() == b"Transcode(put)"


def test_outputs_never_retrigger_even_under_the_prefix(ci: CosS3Client, media_bucket: str) -> None:
    workflow_id = _workflow(ci, media_bucket, prefix="")  # every object matches, outputs included
    ci.put_object(Bucket=media_bucket, Key="clip.mp4", Body=b"x")
    runs = runs_of(ci, media_bucket, workflow_id)
    assert len(runs) == 1
    wait_run(ci, media_bucket, runs[0]["RunId"])
    assert len(runs_of(ci, media_bucket, workflow_id)) == 1
    ci.head_object(Bucket=media_bucket, Key="out/clip.mp4")


def test_paused_workflows_and_other_prefixes_do_not_trigger(ci: CosS3Client, media_bucket: str) -> None:
    paused = _workflow(ci, media_bucket, prefix="in/", state="Paused")
    active = _workflow(ci, media_bucket, prefix="in/")
    ci.put_object(Bucket=media_bucket, Key="other/a.mp4", Body=b"x")
    ci.put_object(Bucket=media_bucket, Key="inbox.mp4", Body=b"x")  # "inbox" does not start with "in/"
    assert runs_of(ci, media_bucket, paused) == [] and runs_of(ci, media_bucket, active) == []
    ci.ci_update_workflow_state(Bucket=media_bucket, WorkflowId=paused, UpdateState="active")
    ci.put_object(Bucket=media_bucket, Key="in/b.mp4", Body=b"x")
    assert len(runs_of(ci, media_bucket, paused)) == 1 and len(runs_of(ci, media_bucket, active)) == 1


def test_upload_response_does_not_wait_for_processing(ci: CosS3Client, media_bucket: str) -> None:
    workflow_id = _workflow(ci, media_bucket)
    ci.put_object(Bucket=media_bucket, Key="slow.mp4", Body=b"sleep=2")
    run = runs_of(ci, media_bucket, workflow_id)[0]
    assert run["State"] == "Running"  # the PUT returned while the task still sleeps
    assert wait_run(ci, media_bucket, run["RunId"])["State"] == "Success"


EVERY_UPLOAD = {"a.bin", "b.mp4", "c.mp3", "d.png", "e.MOV", "noext", "g.v2.mp4", "h.mp4.txt"}
EXT_CASES = [
    ({"State": "Off"}, EVERY_UPLOAD),
    ({"State": "On", "Video": "true"}, {"b.mp4", "e.MOV", "g.v2.mp4"}),  # the extension follows the last dot
    ({"State": "On", "Audio": "true"}, {"c.mp3"}),
    ({"State": "On", "Image": "true"}, {"d.png"}),
    ({"State": "On", "Custom": "true", "CustomExts": "bin/mov/txt"}, {"a.bin", "e.MOV", "h.mp4.txt"}),
    ({"State": "On", "AllFile": "true"}, EVERY_UPLOAD),
    ({"State": "On", "ContentType": "true", "Video": "true"}, {"a.bin"}),  # a.bin is uploaded as video/mp4
    ({"State": "on", "Video": "true", "Audio": "true"}, {"b.mp4", "c.mp3", "e.MOV", "g.v2.mp4"}),
]


@pytest.mark.parametrize("ext_filter, expected", EXT_CASES)
def test_ext_filter(ci: CosS3Client, media_bucket: str, ext_filter: dict[str, str], expected: set[str]) -> None:
    workflow_id = _workflow(ci, media_bucket, prefix="f/", ext_filter=ext_filter)
    uploads = {
        "a.bin": "video/mp4",
        "b.mp4": "application/octet-stream",
        "c.mp3": "audio/mpeg",
        "d.png": "image/png",
        "e.MOV": "application/octet-stream",
        "noext": "text/plain",
        "g.v2.mp4": "application/octet-stream",
        "h.mp4.txt": "text/plain",
    }
    for key, content_type in uploads.items():
        ci.put_object(Bucket=media_bucket, Key=f"f/{key}", Body=b"x", ContentType=content_type)
    started = {r["Object"].removeprefix("f/") for r in runs_of(ci, media_bucket, workflow_id)}
    assert started == expected
