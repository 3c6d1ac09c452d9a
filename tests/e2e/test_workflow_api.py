"""Workflow CRUD, state switching and TriggerWorkflow through the official SDK (spec §5, §6)."""

from __future__ import annotations

import re
import time
from datetime import datetime
from typing import Any

import pytest
from qcloud_cos import CosS3Client
from qcloud_cos.cos_exception import CosServiceError

from tests.support.templates import transcode_template
from tests.support.workflows import as_list, node, runs_of, wait_run, workflow_body

WORKFLOW_ID = re.compile(r"^w[0-9a-f]{32}$")
INSTANCE_ID = re.compile(r"^i[0-9a-f]{32}$")
API_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+0800$")


@pytest.fixture
def transcode(ci: CosS3Client, media_bucket: str) -> str:
    return transcode_template(ci, media_bucket)


def body_for(
    template_id: str,
    name: str = "wf-api",
    *,
    state: str | None = None,
    output: str = "out/${InputName}.${Ext}",
    prefix: str = "in/",
    **extra_operation: Any,
) -> dict[str, Any]:
    return workflow_body(
        name,
        {"Start": "Transcode_1", "Transcode_1": "End"},
        {"Transcode_1": node("Transcode", output, TemplateId=template_id, **extra_operation)},
        prefix=prefix,
        state=state,
    )


def create(ci: CosS3Client, bucket: str, body: dict[str, Any]) -> dict[str, Any]:
    return ci.ci_create_workflow(Bucket=bucket, Body=body)["MediaWorkflow"]


def get_one(ci: CosS3Client, bucket: str, workflow_id: str) -> dict[str, Any]:
    found = ci.ci_get_workflow(Bucket=bucket, Ids=workflow_id)
    items = as_list(found.get("MediaWorkflowList"))
    assert found["TotalCount"] == "1" and len(items) == 1, found
    return items[0]


def error_of(call: Any, **kwargs: Any) -> CosServiceError:
    with pytest.raises(CosServiceError) as caught:
        call(**kwargs)
    return caught.value


def wait_for_next_second(api_time: str) -> None:
    """API times have one-second resolution: wait until the clock is past ``api_time``'s second."""
    target = datetime.strptime(api_time, "%Y-%m-%dT%H:%M:%S%z").timestamp() + 1
    while time.time() < target + 0.01:
        time.sleep(0.02)


def test_create_response_shape_and_deep_echo(ci: CosS3Client, media_bucket: str, transcode: str) -> None:
    body = body_for(
        transcode,
        "wf-shape",
        output="out/${InputPath}/${InputName}_${RunId}.${Ext}",
    )
    start_input = body["MediaWorkflow"]["Topology"]["Nodes"]["Start"]["Input"]
    start_input["ExtFilter"] = {"State": "On", "Custom": "true", "CustomExts": "mp4/mov"}
    start_input["NotifyConfig"] = {"Type": "Url", "Url": "http://127.0.0.1:9/cb", "Event": "TaskFinish"}
    body["MediaWorkflow"]["Topology"]["Nodes"]["Transcode_1"]["Operation"]["Output"].update(
        {"Region": "ap-guangzhou", "Bucket": media_bucket}
    )
    response = ci.ci_create_workflow(Bucket=media_bucket, Body=body)
    assert response["RequestId"]
    workflow = response["MediaWorkflow"]
    assert workflow["Name"] == "wf-shape"
    assert workflow["State"] == "Paused"  # the default
    assert WORKFLOW_ID.match(workflow["WorkflowId"]), workflow["WorkflowId"]
    assert workflow["BucketId"] == media_bucket
    assert API_TIME.match(workflow["CreateTime"]) and API_TIME.match(workflow["UpdateTime"]), workflow
    assert workflow["CreateTime"] == workflow["UpdateTime"]
    created = datetime.strptime(workflow["CreateTime"], "%Y-%m-%dT%H:%M:%S%z").timestamp()
    assert abs(created - time.time()) < 5

    topology = workflow["Topology"]
    assert topology["Dependencies"] == {"Start": "Transcode_1", "Transcode_1": "End"}
    assert topology["Nodes"]["Start"]["Type"] == "Start"
    assert topology["Nodes"]["Start"]["Input"]["ObjectPrefix"] == "in/"
    operation = topology["Nodes"]["Transcode_1"]["Operation"]
    assert topology["Nodes"]["Transcode_1"]["Type"] == "Transcode"
    assert operation["TemplateId"] == transcode
    assert operation["Output"] == {
        "Object": "out/${InputPath}/${InputName}_${RunId}.${Ext}",
        "Region": "ap-guangzhou",
        "Bucket": media_bucket,
    }
    # the nodes' elements are stored and echoed unchanged, deep ones included (unknown ones are
    # refused: tests/e2e/test_fields.py)
    echoed_input = topology["Nodes"]["Start"]["Input"]
    assert echoed_input["ExtFilter"] == {"State": "On", "Custom": "true", "CustomExts": "mp4/mov"}
    assert echoed_input["NotifyConfig"] == {"Type": "Url", "Url": "http://127.0.0.1:9/cb", "Event": "TaskFinish"}

    listed = get_one(ci, media_bucket, workflow["WorkflowId"])
    for field in ("Name", "State", "WorkflowId", "BucketId", "CreateTime", "UpdateTime", "Topology"):
        assert listed[field] == workflow[field], field


def test_state_active_in_body_is_honoured(ci: CosS3Client, media_bucket: str, transcode: str) -> None:
    active = create(ci, media_bucket, body_for(transcode, "wf-active", state="Active"))
    assert active["State"] == "Active"
    assert get_one(ci, media_bucket, active["WorkflowId"])["State"] == "Active"
    paused = create(ci, media_bucket, body_for(transcode, "wf-paused", state="Paused"))
    assert get_one(ci, media_bucket, paused["WorkflowId"])["State"] == "Paused"


def test_update_while_paused(ci: CosS3Client, media_bucket: str, transcode: str) -> None:
    workflow = create(ci, media_bucket, body_for(transcode, "wf-before"))
    wait_for_next_second(workflow["CreateTime"])
    new_body = body_for(transcode, "wf-after", output="renamed/${InputName}.${Ext}", prefix="videos/")
    updated = ci.ci_update_workflow(Bucket=media_bucket, WorkflowId=workflow["WorkflowId"], Body=new_body)
    after = updated["MediaWorkflow"]
    assert after["WorkflowId"] == workflow["WorkflowId"]
    assert after["Name"] == "wf-after" and after["State"] == "Paused"
    assert after["CreateTime"] == workflow["CreateTime"]
    assert API_TIME.match(after["UpdateTime"]) and after["UpdateTime"] > workflow["UpdateTime"]
    assert after["Topology"]["Nodes"]["Transcode_1"]["Operation"]["Output"]["Object"] == "renamed/${InputName}.${Ext}"
    assert after["Topology"]["Nodes"]["Start"]["Input"]["ObjectPrefix"] == "videos/"
    listed = get_one(ci, media_bucket, workflow["WorkflowId"])
    assert listed["Name"] == "wf-after" and listed["UpdateTime"] == after["UpdateTime"]
    assert listed["Topology"] == after["Topology"]


def test_update_can_activate_through_the_body(ci: CosS3Client, media_bucket: str, transcode: str) -> None:
    workflow = create(ci, media_bucket, body_for(transcode))
    body = body_for(transcode, state="Active")
    after = ci.ci_update_workflow(Bucket=media_bucket, WorkflowId=workflow["WorkflowId"], Body=body)["MediaWorkflow"]
    assert after["State"] == "Active"
    assert get_one(ci, media_bucket, workflow["WorkflowId"])["State"] == "Active"


def test_active_workflow_cannot_be_updated_or_deleted(ci: CosS3Client, media_bucket: str, transcode: str) -> None:
    workflow = create(ci, media_bucket, body_for(transcode, "wf-locked", state="Active"))
    workflow_id = workflow["WorkflowId"]
    before = get_one(ci, media_bucket, workflow_id)
    wait_for_next_second(workflow["CreateTime"])

    err = error_of(
        ci.ci_update_workflow,
        Bucket=media_bucket,
        WorkflowId=workflow_id,
        Body=body_for(transcode, "wf-changed", output="changed/${InputName}.${Ext}"),
    )
    assert err.get_status_code() == 400 and err.get_error_code() == "InvalidArgument"
    assert workflow_id in err.get_error_msg() and "Active" in err.get_error_msg()

    err = error_of(ci.ci_delete_workflow, Bucket=media_bucket, WorkflowId=workflow_id)
    assert err.get_status_code() == 400 and err.get_error_code() == "InvalidArgument"
    assert workflow_id in err.get_error_msg()

    assert get_one(ci, media_bucket, workflow_id) == before  # unchanged, still there, still Active


def test_state_switch_and_delete_while_paused(ci: CosS3Client, media_bucket: str, transcode: str) -> None:
    workflow_id = create(ci, media_bucket, body_for(transcode, "wf-switch"))["WorkflowId"]
    active = ci.ci_update_workflow_state(Bucket=media_bucket, WorkflowId=workflow_id, UpdateState="active")
    assert active["RequestId"] and active["MediaWorkflow"]["State"] == "Active"
    assert active["MediaWorkflow"]["WorkflowId"] == workflow_id
    assert get_one(ci, media_bucket, workflow_id)["State"] == "Active"

    paused = ci.ci_update_workflow_state(Bucket=media_bucket, WorkflowId=workflow_id, UpdateState="paused")
    assert paused["MediaWorkflow"]["State"] == "Paused"
    assert paused["MediaWorkflow"]["Name"] == "wf-switch"
    assert get_one(ci, media_bucket, workflow_id)["State"] == "Paused"

    deleted = ci.ci_delete_workflow(Bucket=media_bucket, WorkflowId=workflow_id)
    assert deleted["WorkflowId"] == workflow_id and deleted["RequestId"]
    gone = ci.ci_get_workflow(Bucket=media_bucket, Ids=workflow_id)
    assert gone["TotalCount"] == "0" and not as_list(gone.get("MediaWorkflowList"))
    assert as_list(gone.get("NonExistIDs")) == [workflow_id]
    err = error_of(ci.ci_delete_workflow, Bucket=media_bucket, WorkflowId=workflow_id)
    assert (err.get_status_code(), err.get_error_code()) == (400, "InvalidArgument")


def test_only_active_workflows_trigger_on_upload(ci: CosS3Client, media_bucket: str, transcode: str) -> None:
    workflow_id = create(ci, media_bucket, body_for(transcode))["WorkflowId"]
    ci.put_object(Bucket=media_bucket, Key="in/first.mp4", Body=b"first")
    assert runs_of(ci, media_bucket, workflow_id) == []
    ci.ci_update_workflow_state(Bucket=media_bucket, WorkflowId=workflow_id, UpdateState="active")
    ci.put_object(Bucket=media_bucket, Key="in/second.mp4", Body=b"second")
    ci.put_object(Bucket=media_bucket, Key="elsewhere/third.mp4", Body=b"third")  # outside the prefix
    runs = runs_of(ci, media_bucket, workflow_id)
    assert [r["Object"] for r in runs] == ["in/second.mp4"]
    assert wait_run(ci, media_bucket, runs[0]["RunId"])["State"] == "Success"


def test_get_by_ids_reports_unknown_ids(ci: CosS3Client, media_bucket: str, transcode: str) -> None:
    first = create(ci, media_bucket, body_for(transcode, "wf-one"))["WorkflowId"]
    second = create(ci, media_bucket, body_for(transcode, "wf-two"))["WorkflowId"]
    unknown = ["w" + "0" * 32, "w" + "f" * 32]
    found = ci.ci_get_workflow(Bucket=media_bucket, Ids=",".join([first, unknown[0], second, unknown[1]]))
    assert found["TotalCount"] == "2"
    assert {w["WorkflowId"] for w in found["MediaWorkflowList"]} == {first, second}
    assert sorted(as_list(found.get("NonExistIDs"))) == sorted(unknown)
    only_known = ci.ci_get_workflow(Bucket=media_bucket, Ids=first)
    assert not as_list(only_known.get("NonExistIDs"))


def test_workflows_of_other_buckets_are_invisible(ci: CosS3Client, media_bucket: str, transcode: str) -> None:
    workflow_id = create(ci, media_bucket, body_for(transcode))["WorkflowId"]
    other = media_bucket.replace("media", "other", 1)
    ci.create_bucket(Bucket=other)
    found = ci.ci_get_workflow(Bucket=other, Ids=workflow_id)
    assert found["TotalCount"] == "0" and as_list(found.get("NonExistIDs")) == [workflow_id]
    err = error_of(ci.ci_delete_workflow, Bucket=other, WorkflowId=workflow_id)
    assert (err.get_status_code(), err.get_error_code()) == (400, "InvalidArgument")
    assert get_one(ci, media_bucket, workflow_id)["WorkflowId"] == workflow_id


def test_name_prefix_filter(ci: CosS3Client, media_bucket: str, transcode: str) -> None:
    ids = {name: create(ci, media_bucket, body_for(transcode, name))["WorkflowId"] for name in ("alpha-1", "alpha-2")}
    create(ci, media_bucket, body_for(transcode, "beta-1"))
    alpha = ci.ci_get_workflow(Bucket=media_bucket, Name="alpha")
    assert alpha["TotalCount"] == "2"
    assert {w["Name"]: w["WorkflowId"] for w in alpha["MediaWorkflowList"]} == ids
    exact = ci.ci_get_workflow(Bucket=media_bucket, Name="beta-1")
    assert exact["TotalCount"] == "1" and exact["MediaWorkflowList"][0]["Name"] == "beta-1"
    none = ci.ci_get_workflow(Bucket=media_bucket, Name="gamma")
    assert none["TotalCount"] == "0" and not as_list(none.get("MediaWorkflowList"))
    everything = ci.ci_get_workflow(Bucket=media_bucket)
    assert everything["TotalCount"] == "3"


def test_paging(ci: CosS3Client, media_bucket: str, transcode: str) -> None:
    created = {create(ci, media_bucket, body_for(transcode, f"page-{n}"))["WorkflowId"] for n in range(5)}
    seen: list[str] = []
    for number, expected in ((1, 2), (2, 2), (3, 1)):
        page = ci.ci_get_workflow(Bucket=media_bucket, PageNumber=number, PageSize=2)
        assert page["TotalCount"] == "5"
        assert page["PageNumber"] == str(number) and page["PageSize"] == "2"
        items = as_list(page.get("MediaWorkflowList"))
        assert len(items) == expected, page
        seen += [w["WorkflowId"] for w in items]
    assert len(seen) == 5 and set(seen) == created
    beyond = ci.ci_get_workflow(Bucket=media_bucket, PageNumber=4, PageSize=2)
    assert beyond["TotalCount"] == "5" and not as_list(beyond.get("MediaWorkflowList"))
    default = ci.ci_get_workflow(Bucket=media_bucket)
    assert default["PageNumber"] == "1" and default["PageSize"] == "10"
    assert len(default["MediaWorkflowList"]) == 5


def test_trigger_works_on_a_paused_workflow(ci: CosS3Client, media_bucket: str, transcode: str) -> None:
    workflow_id = create(ci, media_bucket, body_for(transcode))["WorkflowId"]
    ci.put_object(Bucket=media_bucket, Key="anywhere/clip.mp4", Body=b"clip")  # prefix does not apply
    assert runs_of(ci, media_bucket, workflow_id) == []
    response = ci.ci_trigger_workflow(Bucket=media_bucket, WorkflowId=workflow_id, Key="anywhere/clip.mp4")
    instance = response["InstanceId"]
    assert INSTANCE_ID.match(instance), response
    assert response["RequestId"]
    execution = wait_run(ci, media_bucket, instance)
    assert execution["State"] == "Success" and execution["WorkflowId"] == workflow_id
    assert execution["Object"] == "anywhere/clip.mp4"
    assert [r["RunId"] for r in runs_of(ci, media_bucket, workflow_id)] == [instance]
    got = ci.get_object(Bucket=media_bucket, Key="out/clip.mp4")["Body"].get_raw_stream().read()
    assert got == b"Transcode(clip)"
    assert get_one(ci, media_bucket, workflow_id)["State"] == "Paused"


def test_trigger_missing_object(ci: CosS3Client, media_bucket: str, transcode: str) -> None:
    workflow_id = create(ci, media_bucket, body_for(transcode))["WorkflowId"]
    err = error_of(ci.ci_trigger_workflow, Bucket=media_bucket, WorkflowId=workflow_id, Key="in/missing.mp4")
    assert err.get_status_code() == 400 and err.get_error_code() == "ResourceNotFound"
    assert "in/missing.mp4" in err.get_error_msg()
    assert runs_of(ci, media_bucket, workflow_id) == []


def test_trigger_unknown_workflow(ci: CosS3Client, media_bucket: str) -> None:
    ci.put_object(Bucket=media_bucket, Key="in/a.mp4", Body=b"a")
    unknown = "w" + "1" * 32
    err = error_of(ci.ci_trigger_workflow, Bucket=media_bucket, WorkflowId=unknown, Key="in/a.mp4")
    assert err.get_status_code() == 400 and err.get_error_code() == "InvalidArgument"
    assert unknown in err.get_error_msg()
