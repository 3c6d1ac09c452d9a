"""Template values met at run time (issue 9 §6). Creation refuses bad values; these tests reach the
run with values that got past it: a template row written directly through the db layer (as one
stored before the checks existed, or edited by hand), and a value that only the actual input can
show to be unusable. The task fails with ``InvalidArgument`` naming the field, never an internal
exception text, and the API never answers 500 (workflow creation, executions, listings)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from qcloud_cos import CosS3Client
from qcloud_cos.cos_exception import CosServiceError

from cosflow.db import templates as template_rows
from cosflow.db.engine import make_engine
from cosflow.domain import times
from cosflow.domain.topology import Template
from tests.support.media import make_image, make_video
from tests.support.workflows import as_list, node, runs_of, wait_run, workflow_body

HUGE = "9" * 5000


def _store_directly(data_dir: Path, bucket: str, template_id: str, tag: str, body: str) -> None:
    """Overwrite a template row through the db layer, bypassing every check of the API."""
    engine = make_engine(f"sqlite:///{data_dir / 'cosflow.db'}")
    try:
        found = None
        with engine.begin() as conn:
            found = template_rows.get_template(conn, bucket, template_id)
            assert found is not None
            template = Template(template_id, found[0].name, tag, "Custom", ET.fromstring(body))
            template_rows.update_template(conn, template, times.now())
    finally:
        engine.dispose()


def _pic_template(client: CosS3Client, bucket: str, rule: str, name: str) -> str:
    body = {"Tag": "PicProcess", "Name": name, "PicProcess": {"ProcessRule": rule}}
    return client.ci_create_template(Bucket=bucket, Template=body)["Template"]["TemplateId"]


def _workflow(client: CosS3Client, bucket: str, prefix: str, step: dict[str, object]) -> str:
    body = workflow_body(
        prefix.strip("/"), {"Start": "N_1", "N_1": "End"}, {"N_1": step}, prefix=prefix, state="Active"
    )
    return client.ci_create_workflow(Bucket=bucket, Body=body)["MediaWorkflow"]["WorkflowId"]


def _failed_task(client: CosS3Client, bucket: str, workflow_id: str) -> dict[str, str]:
    execution = wait_run(client, bucket, runs_of(client, bucket, workflow_id)[0]["RunId"], timeout=60)
    task = as_list(execution["Tasks"])[0]
    assert (execution["State"], task["State"], task["Code"]) == ("Failed", "Failed", "InvalidArgument"), execution
    for leak in ("Traceback", "Error:", "JobId", "unexpectedly", "int()", "float"):
        assert leak not in task["Message"], task
    return task


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("imageMogr2/thumbnail/99999999999999999999x", "thumbnail/99999999999999999999x is invalid"),
        (f"imageMogr2/thumbnail/!{HUGE[:400]}p", "a percentage above 0"),
        (f"imageMogr2/thumbnail/{HUGE}@", "thumbnail/9999999999"),
        (f"imageMogr2/crop/{HUGE}x", "crop/9999999999"),
    ],
)
def test_a_stored_template_with_a_bad_value_fails_the_task_cleanly_and_no_api_answers_500(
    client: CosS3Client, bucket: str, data_dir: Path, tmp_path: Path, rule: str, expected: str
) -> None:
    template_id = _pic_template(client, bucket, "imageMogr2/thumbnail/64x", "good")
    step = node("PicProcess", "out/${InputName}.${Ext}", TemplateId=template_id)
    workflow_id = _workflow(client, bucket, "pic/", step)
    _store_directly(
        data_dir,
        bucket,
        template_id,
        "PicProcess",
        f"<PicProcess><PicProcess><ProcessRule>{rule}</ProcessRule></PicProcess></PicProcess>",
    )

    client.put_object(Bucket=bucket, Key="pic/a.png", Body=make_image(tmp_path / "a.png", 64, 48).read_bytes())
    task = _failed_task(client, bucket, workflow_id)
    assert task["Message"].startswith("PicProcess ProcessRule: imageMogr2 ") and expected in task["Message"], task
    assert len(task["Message"]) < 300, task  # the 5,000 digits are not repeated

    # The API keeps answering: listings, the workflow, and a new workflow naming the bad template.
    listed = client.ci_get_template(Bucket=bucket, Ids=template_id)
    assert as_list(listed["TemplateList"])[0]["TemplateId"] == template_id
    assert client.ci_get_workflow(Bucket=bucket, Ids=workflow_id)["MediaWorkflowList"]
    assert client.ci_get_workflow(Bucket=bucket)["TotalCount"] != "0"
    with pytest.raises(CosServiceError) as refused:
        _workflow(client, bucket, "again/", step)
    assert (refused.value.get_status_code(), refused.value.get_error_code()) == (400, "InvalidArgument")
    assert "PicProcess ProcessRule" in refused.value.get_error_msg()


def test_a_snapshot_template_stored_with_a_huge_count_fails_the_task_naming_the_field(
    client: CosS3Client, bucket: str, data_dir: Path, tmp_path: Path
) -> None:
    body = {"Tag": "Snapshot", "Name": "one", "Snapshot": {"Mode": "Interval", "Count": "1", "Start": "0"}}
    template_id = client.ci_create_template(Bucket=bucket, Template=body)["Template"]["TemplateId"]
    workflow_id = _workflow(
        client, bucket, "snap/", node("Snapshot", "out/${InputName}.${Ext}", TemplateId=template_id)
    )
    _store_directly(
        data_dir,
        bucket,
        template_id,
        "Snapshot",
        f"<Snapshot><Snapshot><Mode>Interval</Mode><Count>{HUGE}</Count></Snapshot></Snapshot>",
    )
    client.put_object(Bucket=bucket, Key="snap/v.mp4", Body=make_video(tmp_path / "v.mp4", seconds=1.0).read_bytes())
    task = _failed_task(client, bucket, workflow_id)
    assert task["Message"].startswith("Snapshot Count must be"), task


def test_a_size_only_the_input_shows_too_large_fails_with_invalid_argument(
    client: CosS3Client, bucket: str, tmp_path: Path
) -> None:
    # Checked at creation against a square image it is fine (7000x7000); filling 7000x7000 from a
    # 1000x100 picture needs 10000x7000 pixels, more than a result may have.
    template_id = _pic_template(client, bucket, "imageMogr2/thumbnail/7000x7000r", "fill")
    workflow_id = _workflow(
        client, bucket, "wide/", node("PicProcess", "out/${InputName}.${Ext}", TemplateId=template_id)
    )
    client.put_object(Bucket=bucket, Key="wide/w.png", Body=make_image(tmp_path / "w.png", 1000, 100).read_bytes())
    task = _failed_task(client, bucket, workflow_id)
    assert task["Message"] == (
        "PicProcess ProcessRule: imageMogr2 thumbnail/7000x7000r is invalid: "
        "expected a result of at most 50000000 pixels"
    ), task
