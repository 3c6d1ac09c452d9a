"""Fields accepted and ignored are refused by name (issue 8 §2), and template values are checked when a
template is written (issue 8 §3.4): each case here was accepted (and ignored) before. Official SDK
against the real server with its real processors; nothing here reads cosflow's own tables."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from qcloud_cos import CosS3Client
from qcloud_cos.cos_exception import CosServiceError

from tests.support.workflows import as_list, node, workflow_body


def _refused(call: Callable[[], Any]) -> str:
    """The InvalidArgument message of a call that must fail."""
    try:
        call()
    except CosServiceError as err:
        assert err.get_status_code() == 400 and err.get_error_code() == "InvalidArgument", err.get_error_msg()
        return str(err.get_error_msg())
    raise AssertionError("accepted")


# --- named regressions (each was accepted and ignored) ----------------------------------------


def _transcode_workflow(template_id: str, **operation: Any) -> dict[str, Any]:
    return workflow_body(
        "wf",
        {"Start": "Transcode_1", "Transcode_1": "End"},
        {"Transcode_1": node("Transcode", "o/x", TemplateId=template_id, **operation)},
    )


@pytest.fixture
def transcode_id(client: CosS3Client, bucket: str) -> str:
    body = {"Tag": "Transcode", "Name": "mp4", "Container": {"Format": "mp4"}}
    return client.ci_create_template(Bucket=bucket, Template=body)["Template"]["TemplateId"]


def test_watermark_template_id_on_a_transcode_node_is_refused(
    client: CosS3Client, bucket: str, transcode_id: str
) -> None:
    body = _transcode_workflow(transcode_id, WatermarkTemplateId="t" + "1" * 33)
    message = _refused(lambda: client.ci_create_workflow(Bucket=bucket, Body=body))
    assert message == (
        "node Transcode_1: Operation/WatermarkTemplateId is not supported by cosflow (watermarks are not implemented)"
    )
    assert as_list(client.ci_get_workflow(Bucket=bucket).get("MediaWorkflowList")) == []  # nothing created


def test_digital_watermark_is_refused(client: CosS3Client, bucket: str, transcode_id: str) -> None:
    body = _transcode_workflow(transcode_id, DigitalWatermark={"Message": "hi", "Type": "Text", "Version": "V1"})
    message = _refused(lambda: client.ci_create_workflow(Bucket=bucket, Body=body))
    assert message.startswith("node Transcode_1: Operation/DigitalWatermark is not supported by cosflow")


def test_sampling_config_is_refused(client: CosS3Client, bucket: str, transcode_id: str) -> None:
    body = _transcode_workflow(transcode_id)
    body["MediaWorkflow"]["Topology"]["Nodes"]["Start"]["Input"]["SamplingConfig"] = {"State": "On", "Ratio": "10"}
    message = _refused(lambda: client.ci_create_workflow(Bucket=bucket, Body=body))
    assert message.startswith("node Start: Input/SamplingConfig is not supported by cosflow")


def test_segment_hls_encryption_key_is_refused(client: CosS3Client, bucket: str) -> None:
    segment = {"Format": "hls", "HlsEncrypt": {"IsHlsEncrypt": "false", "UriKey": "https://keys.example/k"}}
    body = workflow_body(
        "wf", {"Start": "Segment_1", "Segment_1": "End"}, {"Segment_1": node("Segment", "s/x", Segment=segment)}
    )
    message = _refused(lambda: client.ci_create_workflow(Bucket=bucket, Body=body))
    assert message.startswith("node Segment_1: Operation/Segment/HlsEncrypt/UriKey is not supported by cosflow")


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (
            {"TransConfig": {"IsCheckReso": "true"}},
            "template: TransConfig/IsCheckReso true is not supported by cosflow",
        ),
        (
            {"TransConfig": {"HlsEncrypt": {"IsHlsEncrypt": "true", "UriKey": "https://k"}}},
            "template: TransConfig/HlsEncrypt/IsHlsEncrypt true is not supported by cosflow (HLS encryption",
        ),
        (
            {"AudioMix": {"AudioSource": "https://a/b.mp3"}},
            "template: AudioMix is not supported by cosflow (audio mixing",
        ),
        ({"AudioMixArray": {"AudioSource": "https://a/b.mp3"}}, "template: AudioMixArray is not supported by cosflow"),
        (
            {"Video": {"Codecc": "H.264"}},
            "template: Video/Codecc is unknown: it is not a field of a Transcode template",
        ),
        ({"Video": {"Rotate": "90"}}, "template: Video/Rotate is not supported by cosflow (rotation"),
    ],
)
def test_unsupported_template_fields_are_refused(
    client: CosS3Client, bucket: str, extra: dict[str, Any], expected: str
) -> None:
    body = {"Tag": "Transcode", "Name": "t", "Container": {"Format": "hls"}, **extra}
    message = _refused(lambda: client.ci_create_template(Bucket=bucket, Template=body))
    assert message.startswith(expected), message
    assert as_list(client.ci_get_template(Bucket=bucket).get("TemplateList")) == []


def test_switches_left_off_are_honoured(client: CosS3Client, bucket: str) -> None:
    body = {
        "Tag": "Transcode",
        "Name": "t",
        "Container": {"Format": "mp4"},
        "Video": {"LongShortMode": "false", "Roi": "none", "Interlaced": "false"},
        "TransConfig": {"IsCheckReso": "false", "IsHdr2Sdr": "false", "HlsEncrypt": {"IsHlsEncrypt": "false"}},
    }
    template = client.ci_create_template(Bucket=bucket, Template=body)["Template"]
    assert template["TransTpl"]["TransConfig"]["IsCheckReso"] == "false"  # stored and echoed as sent


# --- docs/design-choices.md "Fields": a field tuning what the request does not ask for has no effect


@pytest.mark.parametrize(
    "extra",
    [
        {"Container": {"Format": "mp4", "ClipConfig": {"Duration": "5"}}},  # segments are HLS's
        {"Container": {"Format": "mp3"}, "Video": {"Codec": "H.264", "Width": "640"}},  # no video stream
        {"Video": {"Remove": "true", "Crf": "20", "Bitrate": "900"}, "Audio": {"Codec": "aac"}},
        {"Audio": {"Remove": "true", "Bitrate": "96"}},
        {"Video": {"Bufsize": "2000"}},  # no Maxrate to buffer for
        {"Video": {"Width": "640"}, "TransConfig": {"AdjDarMethod": "pad"}},  # no box to fit into
    ],
)
def test_template_fields_without_effect_are_accepted(client: CosS3Client, bucket: str, extra: dict[str, Any]) -> None:
    body = {"Tag": "Transcode", "Name": "t", "Container": {"Format": "mp4"}, **extra}
    template = client.ci_create_template(Bucket=bucket, Template=body)["Template"]
    assert {k: template["TransTpl"][k] for k in extra} == extra  # stored and echoed as sent


def test_animation_quality_on_a_gif_is_accepted_without_effect(client: CosS3Client, bucket: str) -> None:
    body = {"Tag": "Animation", "Name": "a", "Container": {"Format": "gif"}, "Video": {"Codec": "gif", "Quality": "50"}}
    template = client.ci_create_template(Bucket=bucket, Template=body)["Template"]
    assert template["Animation"]["Video"]["Quality"] == "50"  # WebP only: stored as sent, no effect


def test_workflow_fields_without_effect_are_accepted(client: CosS3Client, bucket: str, transcode_id: str) -> None:
    """The Start node of every workflow demo of the Python SDK sends CustomExts with Custom empty;
    a SpriteObject beside a template that makes no sprites names nothing."""
    snapshot = {"Tag": "Snapshot", "Name": "s", "Snapshot": {"Mode": "Average", "TimeInterval": "2", "Count": "1"}}
    snapshot_id = client.ci_create_template(Bucket=bucket, Template=snapshot)["Template"]["TemplateId"]
    body = workflow_body(
        "wf",
        {"Start": "Snapshot_1", "Snapshot_1": "End"},
        {"Snapshot_1": node("Snapshot", "o/x.jpg", TemplateId=snapshot_id)},
        ext_filter={"State": "On", "Video": "true", "Custom": "", "CustomExts": "jpg/png"},
    )
    body["MediaWorkflow"]["Topology"]["Nodes"]["Snapshot_1"]["Operation"]["Output"]["SpriteObject"] = "s/${Number}.jpg"
    created = client.ci_create_workflow(Bucket=bucket, Body=body)["MediaWorkflow"]
    start = created["Topology"]["Nodes"]["Start"]["Input"]
    assert start["ExtFilter"]["CustomExts"] == "jpg/png"


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"Video": {"Crf": "20", "Bitrate": "900"}}, "template: Video/Bitrate applies only when Video/Crf is absent"),
        ({"Video": {"Codec": "H.265", "Profile": "main"}}, "template: Video/Profile applies only when Video/Codec is"),
    ],
)
def test_template_fields_another_field_overrides_are_refused(
    client: CosS3Client, bucket: str, extra: dict[str, Any], expected: str
) -> None:
    body = {"Tag": "Transcode", "Name": "t", "Container": {"Format": "mp4"}, **extra}
    message = _refused(lambda: client.ci_create_template(Bucket=bucket, Template=body))
    assert message.startswith(expected) and message.endswith("here cosflow would not apply it, so remove it")


def test_workflow_fields_another_field_overrides_are_refused(client: CosS3Client, bucket: str) -> None:
    cover = {"Tag": "SmartCover", "Name": "c", "SmartCover": {"Count": "1"}}
    cover_id = client.ci_create_template(Bucket=bucket, Template=cover)["Template"]["TemplateId"]
    inline = node("SmartCover", "c/${Number}.jpg", TemplateId=cover_id, SmartCover={"Count": "3"})
    body = workflow_body("wf", {"Start": "Cover_1", "Cover_1": "End"}, {"Cover_1": inline})
    message = _refused(lambda: client.ci_create_workflow(Bucket=bucket, Body=body))
    assert message.startswith(
        "node Cover_1: Operation/SmartCover/Count applies only when Operation/TemplateId is absent"
    )
    # a NotifyConfig with only ResultFormat would change the queue's callbacks if honoured
    body = workflow_body(
        "wf", {"Start": "Cover_1", "Cover_1": "End"}, {"Cover_1": node("SmartCover", "c/${Number}.jpg")}
    )
    body["MediaWorkflow"]["Topology"]["Nodes"]["Start"]["Input"]["NotifyConfig"] = {"ResultFormat": "JSON"}
    message = _refused(lambda: client.ci_create_workflow(Bucket=bucket, Body=body))
    assert message == "node Start: NotifyConfig ResultFormat applies only to a NotifyConfig with a Url"
    assert as_list(client.ci_get_workflow(Bucket=bucket).get("MediaWorkflowList")) == []


def test_template_tags_without_a_node_are_refused(client: CosS3Client, bucket: str) -> None:
    body = {"Tag": "Watermark", "Name": "wm", "Watermark": {"Type": "Text", "Text": {"Text": "hi"}}}
    message = _refused(lambda: client.ci_create_template(Bucket=bucket, Template=body))
    assert message == "template Tag Watermark is not supported by cosflow (no node of this server uses it)"


def test_queue_update_fields_are_honoured_or_refused(client: CosS3Client, bucket: str) -> None:
    queue = as_list(client.ci_get_media_queue(Bucket=bucket)["QueueList"])[0]
    queue_id = queue["QueueId"]
    tdmq = {"Name": "q", "NotifyConfig": {"Type": "Url", "Url": "http://127.0.0.1:9/cb", "MqRegion": "bj"}}
    message = _refused(lambda: client.ci_update_media_queue(Bucket=bucket, QueueId=queue_id, Request=tdmq))
    assert message.startswith("queue: NotifyConfig/MqRegion is not supported by cosflow (TDMQ")
    message = _refused(lambda: client.ci_update_media_queue(Bucket=bucket, QueueId=queue_id, Request={"Nmae": "q"}))
    assert message == "queue: Nmae is unknown: it is not a field of an UpdateMediaQueue body"
    other = {"Name": "q", "QueueID": "p" + "0" * 32}
    message = _refused(lambda: client.ci_update_media_queue(Bucket=bucket, QueueId=queue_id, Request=other))
    assert "is not the queue in the path" in message
    after = as_list(client.ci_get_media_queue(Bucket=bucket)["QueueList"])[0]
    assert after["Name"] == queue["Name"] and after["UpdateTime"] == queue["UpdateTime"]  # nothing changed
    # the Python SDK demo's body (ci_put_media_queue), with this queue's id: honoured
    demo = {
        "Name": "media-queue",
        "QueueID": queue_id,
        "State": "Active",
        "NotifyConfig": {
            "Type": "Url",
            "Url": "http://127.0.0.1:9/cb",
            "Event": "TaskFinish",
            "State": "On",
            "ResultFormat": "JSON",
        },
    }
    updated = as_list(client.ci_update_media_queue(Bucket=bucket, QueueId=queue_id, Request=demo)["Queue"])[0]
    assert updated["Name"] == "media-queue" and updated["NotifyConfig"]["ResultFormat"] == "JSON"


def test_a_get_answer_sent_back_as_an_update_is_accepted(client: CosS3Client, bucket: str, transcode_id: str) -> None:
    created = client.ci_create_workflow(Bucket=bucket, Body=_transcode_workflow(transcode_id))["MediaWorkflow"]
    echo = copy.deepcopy(created)  # WorkflowId, BucketId, CreateTime, UpdateTime: response-only, ignored
    echo["Name"] = "renamed"
    updated = client.ci_update_workflow(Bucket=bucket, WorkflowId=created["WorkflowId"], Body={"MediaWorkflow": echo})
    assert updated["MediaWorkflow"]["Name"] == "renamed"
    echo["WorkflowId"] = "w" + "0" * 32
    message = _refused(
        lambda: client.ci_update_workflow(Bucket=bucket, WorkflowId=created["WorkflowId"], Body={"MediaWorkflow": echo})
    )
    assert "is not the workflow being updated" in message


#: One custom body per Tag cosflow implements (each group as a request gives it).
_TEMPLATE_BODIES: dict[str, dict[str, Any]] = {
    "Transcode": {
        "Container": {"Format": "mp4"},
        "Video": {"Codec": "H.264", "Width": "640"},
        "Audio": {"Codec": "aac"},
    },
    "Snapshot": {"Snapshot": {"Mode": "Interval", "Start": "0", "Count": "2"}},
    "Animation": {"Container": {"Format": "gif"}, "Video": {"Codec": "gif", "Fps": "5"}},
    "SmartCover": {"SmartCover": {"Format": "jpg", "Count": "2"}},
    "PicProcess": {"PicProcess": {"ProcessRule": "imageMogr2/thumbnail/64x"}},
}
_NOT_PARAMETERS = ("TemplateId", "Name", "BucketId", "Category", "CreateTime", "UpdateTime")


def _parameters(answer: dict[str, Any]) -> dict[str, Any]:
    """A template of a GET answer without its identity, name and times: Tag and its container."""
    return {k: v for k, v in answer.items() if k not in _NOT_PARAMETERS}


def _custom_template(client: CosS3Client, bucket: str, tag: str, name: str = "orig") -> dict[str, Any]:
    body = {"Tag": tag, "Name": name, **_TEMPLATE_BODIES[tag]}
    created: dict[str, Any] = client.ci_create_template(Bucket=bucket, Template=body)["Template"]
    return created


@pytest.mark.parametrize("tag", sorted(_TEMPLATE_BODIES))
def test_a_custom_template_get_answer_can_be_sent_back(client: CosS3Client, bucket: str, tag: str) -> None:
    """docs/design-choices.md: a GET answer (Transcode in TransTpl, Animation in Animation) can be
    sent back as an update and as a create."""
    template_id = _custom_template(client, bucket, tag)["TemplateId"]
    answer = as_list(client.ci_get_template(Bucket=bucket, Ids=template_id)["TemplateList"])[0]
    echo = {**copy.deepcopy(answer), "Name": "renamed"}
    updated = client.ci_update_template(Bucket=bucket, TemplateId=template_id, Template=echo)["Template"]
    assert updated["Name"] == "renamed" and _parameters(updated) == _parameters(answer)
    copied = client.ci_create_template(Bucket=bucket, Template=copy.deepcopy(answer))["Template"]
    assert copied["TemplateId"] != template_id and _parameters(copied) == _parameters(answer)


@pytest.mark.parametrize("tag", ["Transcode", "Snapshot", "Animation"])
def test_an_official_template_get_answer_can_be_sent_back(client: CosS3Client, bucket: str, tag: str) -> None:
    """An Official preset's answer (Category Official, BucketId empty) makes a Custom copy; as an
    update it is refused only because presets are read-only; without its TemplateId it updates a
    custom template of its Tag."""
    listed = as_list(client.ci_get_template(Bucket=bucket, Category="Official", PageSize=100)["TemplateList"])
    preset = next(t for t in listed if t["Tag"] == tag)
    copied = client.ci_create_template(Bucket=bucket, Template=copy.deepcopy(preset))["Template"]
    assert copied["Category"] == "Custom" and copied["Name"] == preset["Name"]
    assert _parameters(copied) == _parameters(preset)
    preset_id = preset["TemplateId"]
    message = _refused(lambda: client.ci_update_template(Bucket=bucket, TemplateId=preset_id, Template=preset))
    assert message == f"template {preset_id} is an Official preset and cannot be changed"
    template_id = _custom_template(client, bucket, tag)["TemplateId"]
    body = {k: v for k, v in copy.deepcopy(preset).items() if k != "TemplateId"}
    updated = client.ci_update_template(Bucket=bucket, TemplateId=template_id, Template=body)["Template"]
    assert updated["TemplateId"] == template_id and _parameters(updated) == _parameters(preset)
    again = as_list(client.ci_get_template(Bucket=bucket, Category="Official", Ids=preset_id)["TemplateList"])
    assert again == [preset]  # the preset itself is untouched


def test_parameters_given_both_inside_trans_tpl_and_outside_are_refused(client: CosS3Client, bucket: str) -> None:
    body = {
        "Tag": "Transcode",
        "Name": "t",
        "Container": {"Format": "mp4"},
        "TransTpl": {"Container": {"Format": "mkv"}},
    }
    message = _refused(lambda: client.ci_create_template(Bucket=bucket, Template=body))
    assert message == "template: Container is given more than once"


# --- issue 8 §3.4: template values checked when written ------------------------------------------


@pytest.mark.parametrize("width", ["64", "5000"])
def test_snapshot_template_width_out_of_range_is_refused(client: CosS3Client, bucket: str, width: str) -> None:
    body = {"Tag": "Snapshot", "Name": "snap", "Snapshot": {"Count": "1", "Width": width}}
    message = _refused(lambda: client.ci_create_template(Bucket=bucket, Template=body))
    assert message == f"template: Snapshot Width must be a whole number in [128, 4096], got {width}"
    good = {"Tag": "Snapshot", "Name": "snap", "Snapshot": {"Count": "1", "Width": "320"}}
    template_id = client.ci_create_template(Bucket=bucket, Template=good)["Template"]["TemplateId"]
    message = _refused(lambda: client.ci_update_template(Bucket=bucket, TemplateId=template_id, Template=body))
    assert "Snapshot Width must be" in message
    stored = as_list(client.ci_get_template(Bucket=bucket, Ids=template_id)["TemplateList"])[0]
    assert stored["Snapshot"]["Width"] == "320"


def test_transcode_template_values_are_checked_when_written(client: CosS3Client, bucket: str) -> None:
    body = {"Tag": "Transcode", "Name": "t", "Container": {"Format": "mp4"}, "Video": {"Codec": "VP9"}}
    message = _refused(lambda: client.ci_create_template(Bucket=bucket, Template=body))
    assert message.startswith("template: container mp4 does not take video codec VP9")


def test_template_update_that_breaks_an_active_workflow_is_refused(client: CosS3Client, bucket: str) -> None:
    snap = {"Tag": "Snapshot", "Name": "one", "Snapshot": {"Count": "1"}}
    template_id = client.ci_create_template(Bucket=bucket, Template=snap)["Template"]["TemplateId"]
    body = workflow_body(
        "wf",
        {"Start": "Snapshot_1", "Snapshot_1": "End"},
        {"Snapshot_1": node("Snapshot", "thumbs/${InputName}.${Ext}", TemplateId=template_id)},
        state="Active",
    )
    workflow_id = client.ci_create_workflow(Bucket=bucket, Body=body)["MediaWorkflow"]["WorkflowId"]
    several = {"Tag": "Snapshot", "Name": "three", "Snapshot": {"Count": "3"}}
    message = _refused(lambda: client.ci_update_template(Bucket=bucket, TemplateId=template_id, Template=several))
    assert message.startswith(f"template {template_id} cannot be changed so: workflow {workflow_id} (Active) uses it")
    assert "Output/Object must contain ${Number}" in message
    stored = as_list(client.ci_get_template(Bucket=bucket, Ids=template_id)["TemplateList"])[0]
    assert stored["Snapshot"]["Count"] == "1" and stored["Name"] == "one"
    # an update that keeps the workflow valid goes through
    wider = {"Tag": "Snapshot", "Name": "wider", "Snapshot": {"Count": "1", "Width": "640"}}
    assert (
        client.ci_update_template(Bucket=bucket, TemplateId=template_id, Template=wider)["Template"]["Name"] == "wider"
    )
    message = _refused(lambda: client.ci_delete_template(Bucket=bucket, TemplateId=template_id))
    assert message == f"template {template_id} is used by workflow {workflow_id}: change or delete that workflow first"


def test_output_region_of_another_region_is_refused(client: CosS3Client, bucket: str, transcode_id: str) -> None:
    body = _transcode_workflow(transcode_id)
    body["MediaWorkflow"]["Topology"]["Nodes"]["Transcode_1"]["Operation"]["Output"]["Region"] = "ap-beijing"
    message = _refused(lambda: client.ci_create_workflow(Bucket=bucket, Body=body))
    assert message.startswith("node Transcode_1: Output/Region ap-beijing is not this server's region (ap-guangzhou)")
