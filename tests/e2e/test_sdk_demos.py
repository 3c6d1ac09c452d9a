"""The Python SDK's own demo bodies (demo/ci_media.py, demo/ci_template.py; transcribed in
tests/support/sdk_demos.json) sent as the demos send them, with the demo's bucket, region and ids
replaced by real ones: each is accepted, or refused only for a feature cosflow does not implement,
named in the message, and accepted once that feature is taken out (docs/workflows.md "The SDK's
demo bodies"). Nothing here reads cosflow's own tables."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from qcloud_cos import CosS3Client
from qcloud_cos.cos_exception import CosServiceError

from tests.support.server import REGION
from tests.support.workflows import as_list, node, workflow_body

DEMOS: dict[str, Any] = json.loads((Path(__file__).parents[1] / "support" / "sdk_demos.json").read_text())

#: What a refusal says about a feature cosflow does not implement.
_UNSUPPORTED = ("is not supported by cosflow", "has no processor in this server")
_NODES = "MediaWorkflow/Topology/Nodes"


def _tag(tag: str) -> list[tuple[str, str | None]]:
    return [(f"template Tag {tag} is not supported by cosflow", None)]


#: Demo function -> the unsupported features it is refused for, in the order met: (what the message
#: says, the body path to take out to go on; ``None`` when the feature is the body's Tag or a node
#: Type, so nothing is left to send). A function not listed is accepted as written.
REFUSED: dict[str, list[tuple[str, str | None]]] = {
    "ci_create_workflow_segment_with_aigc_metadata": [
        (
            "node SegmentNode: Operation/Segment/AIGCMetadata is not supported by cosflow",
            f"{_NODES}/SegmentNode/Operation/Segment/AIGCMetadata",
        )
    ],
    "ci_create_workflow_image_inspect": [("node ImageInspectNode: Type ImageInspect has no processor", None)],
    "ci_update_workflow": [("node ImageInspectNode: Type ImageInspect has no processor", None)],
    **{
        f"ci_{verb}_transcode_template": [
            ("template: TransConfig/AIGCMetadata is not supported by cosflow", "TransConfig/AIGCMetadata"),
            ("template: AudioMix is not supported by cosflow", "AudioMix"),
        ]
        for verb in ("create", "update")
    },
    **{
        f"ci_{verb}_{name}_template": _tag(tag)
        for name, tag in (
            ("high_speed_hd", "HighSpeedHd"),
            ("contact", "Concat"),
            ("video_montage", "VideoMontage"),
            ("voice_separate", "VoiceSeparate"),
            ("watermark", "Watermark"),
            ("transcode_pro", "TranscodePro"),
            ("tts", "Tts"),
            ("noise_reduction", "NoiseReduction"),
            ("video_target", "VideoTargetRec"),
        )
        for verb in ("create", "update")
    },
    "ci_create_ocr_template": _tag("ImageOCR"),  # the demo has no update for it
}

#: A template to update, per Tag cosflow takes (a demo of another Tag updates a Transcode one).
_EXISTING: dict[str, dict[str, Any]] = {
    "Transcode": {"Container": {"Format": "mp4"}},
    "Snapshot": {"Snapshot": {"Count": "1"}},
    "Animation": {"Container": {"Format": "gif"}, "Video": {"Codec": "gif"}},
    "SmartCover": {"SmartCover": {"Count": "1"}},
    "PicProcess": {"PicProcess": {"ProcessRule": "imageMogr2/thumbnail/64x"}},
}


def _refused(call: Callable[[], Any]) -> str:
    try:
        call()
    except CosServiceError as err:
        assert err.get_status_code() == 400 and err.get_error_code() == "InvalidArgument", err.get_error_msg()
        return str(err.get_error_msg())
    raise AssertionError("accepted")


def _substituted(value: Any, names: dict[str, str], queue_id: str) -> Any:
    """The demo body with its bucket and region replaced, and its QueueID the real queue's."""
    if isinstance(value, dict):
        return {k: queue_id if k == "QueueID" else _substituted(v, names, queue_id) for k, v in value.items()}
    if isinstance(value, list):
        return [_substituted(v, names, queue_id) for v in value]
    return names.get(value, value) if isinstance(value, str) else value


def _take_out(body: dict[str, Any], path: str) -> None:
    *parents, leaf = path.split("/")
    for part in parents:
        body = body[part]
    del body[leaf]


def _real_ids(client: CosS3Client, bucket: str, call: dict[str, Any], body: dict[str, Any]) -> dict[str, str]:
    """The id arguments of an update demo, naming a real queue, workflow or template."""
    ids: dict[str, str] = {}
    for argument in call.get("ids", {}):
        if call["method"] == "ci_update_media_queue":
            ids[argument] = as_list(client.ci_get_media_queue(Bucket=bucket)["QueueList"])[0]["QueueId"]
        elif call["method"] == "ci_update_media_pic_queue":
            ids[argument] = as_list(client.ci_get_media_pic_queue(Bucket=bucket)["QueueList"])[0]["QueueId"]
        elif call["method"] == "ci_update_workflow":
            template = {"Tag": "Transcode", "Name": "existing", **_EXISTING["Transcode"]}
            template_id = client.ci_create_template(Bucket=bucket, Template=template)["Template"]["TemplateId"]
            existing = workflow_body(
                "existing", {"Start": "T", "T": "End"}, {"T": node("Transcode", "o/x", TemplateId=template_id)}
            )
            ids[argument] = client.ci_create_workflow(Bucket=bucket, Body=existing)["MediaWorkflow"]["WorkflowId"]
        else:
            tag = body.get("Tag") if body.get("Tag") in _EXISTING else "Transcode"
            template = {"Tag": tag, "Name": "existing", **_EXISTING[tag]}
            ids[argument] = client.ci_create_template(Bucket=bucket, Template=template)["Template"]["TemplateId"]
    return ids


def _stored(client: CosS3Client, bucket: str) -> tuple[list[Any], list[Any]]:
    workflows = as_list(client.ci_get_workflow(Bucket=bucket).get("MediaWorkflowList"))
    templates = as_list(client.ci_get_template(Bucket=bucket).get("TemplateList"))
    return workflows, templates


def test_every_demo_with_a_body_is_here() -> None:
    functions = [call["function"] for call in DEMOS["calls"]]
    assert len(functions) == 34 and set(REFUSED) <= set(functions)


@pytest.mark.parametrize("call", DEMOS["calls"], ids=[call["function"] for call in DEMOS["calls"]])
def test_an_sdk_demo_body_is_accepted_or_refused_only_for_what_cosflow_lacks(
    client: CosS3Client, bucket: str, call: dict[str, Any]
) -> None:
    queue_id = ""
    if call["method"] in ("ci_update_media_queue", "ci_update_media_pic_queue"):
        listing = (
            client.ci_get_media_queue if call["method"] == "ci_update_media_queue" else client.ci_get_media_pic_queue
        )
        queue_id = as_list(listing(Bucket=bucket)["QueueList"])[0]["QueueId"]
    names = {DEMOS["bucket"]: bucket, DEMOS["region"]: REGION}
    body = _substituted(copy.deepcopy(DEMOS["bodies"][call["body"]]), names, queue_id)
    kwargs = {"Bucket": bucket, call["argument"]: body, **_real_ids(client, bucket, call, body)}
    send = getattr(client, call["method"])
    before = _stored(client, bucket)
    for expected, path in REFUSED.get(call["function"], []):
        message = _refused(lambda: send(**kwargs))
        assert message.startswith(expected) and any(words in message for words in _UNSUPPORTED), message
        assert _stored(client, bucket) == before  # a refusal changes nothing
        if path is None:
            return
        _take_out(body, path)
    answer = send(**kwargs)
    assert answer.get("RequestId"), answer
