"""Every invalid workflow is refused with 400 InvalidArgument naming the node and the problem, and
nothing is created (spec §5, §6.2). Shapes a dict cannot express are sent as signed raw XML."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from qcloud_cos import CosS3Client
from qcloud_cos.cos_exception import CosServiceError

from tests.support.server import ServerProcess
from tests.support.signing import billion_laughs, error_code, error_field, signed
from tests.support.templates import picprocess_template, snapshot_template, transcode_template
from tests.support.workflows import as_list, node, workflow_body

BILLION_LAUGHS = billion_laughs("<Request><MediaWorkflow><Name>&lol9;</Name></MediaWorkflow></Request>")

Templates = dict[str, str]
Case = Callable[[Templates], dict[str, Any]]


@pytest.fixture
def templates(ci: CosS3Client, media_bucket: str) -> Templates:
    return {
        "transcode": transcode_template(ci, media_bucket),
        "snapshot": snapshot_template(ci, media_bucket),
        "pic": picprocess_template(ci, media_bucket),
    }


def total(ci: CosS3Client, bucket: str) -> int:
    return int(ci.ci_get_workflow(Bucket=bucket)["TotalCount"])


def transcode(t: Templates, output: str = "out/${InputName}.${Ext}") -> dict[str, Any]:
    return node("Transcode", output, TemplateId=t["transcode"])


def single(t: Templates, task: dict[str, Any], key: str = "Node_1", **start: Any) -> dict[str, Any]:
    """Start -> ``key`` -> End."""
    return workflow_body("wf-invalid", {"Start": key, key: "End"}, {key: task}, prefix="in/", **start)


def without_start(t: Templates) -> dict[str, Any]:
    body = single(t, transcode(t))
    topology = body["MediaWorkflow"]["Topology"]
    del topology["Nodes"]["Start"]
    del topology["Dependencies"]["Start"]
    topology["Dependencies"]["Node_1"] = "End"
    return body


def missing_output_bucket(t: Templates) -> dict[str, Any]:
    task = transcode(t)
    task["Operation"]["Output"]["Bucket"] = "nowhere-1250000000"
    return single(t, task)


def start_of_wrong_type(t: Templates) -> dict[str, Any]:
    body = single(t, transcode(t))
    body["MediaWorkflow"]["Topology"]["Nodes"]["Start"] = transcode(t)
    return body


def cycle(t: Templates) -> dict[str, Any]:
    return workflow_body(
        "wf-cycle",
        {"Start": "Loop_A", "Loop_A": "Loop_B", "Loop_B": "Loop_A,End"},
        {"Loop_A": transcode(t), "Loop_B": transcode(t, "b/${InputName}.${Ext}")},
    )


def undefined_target(t: Templates) -> dict[str, Any]:
    return workflow_body("wf-ghost", {"Start": "Node_1", "Node_1": "Ghost_1"}, {"Node_1": transcode(t)})


def unreachable(t: Templates) -> dict[str, Any]:
    return workflow_body(
        "wf-orphan",
        {"Start": "Node_1", "Node_1": "End", "Orphan_1": "End"},
        {"Node_1": transcode(t), "Orphan_1": transcode(t, "o/${InputName}.${Ext}")},
    )


def never_ends(t: Templates) -> dict[str, Any]:
    return workflow_body(
        "wf-dangling",
        {"Start": "Node_1", "Node_1": "Dangling_1"},
        {"Node_1": transcode(t), "Dangling_1": transcode(t, "d/${InputName}.${Ext}")},
    )


def notify_case(**fields: str) -> Case:
    config = {"Url": "http://127.0.0.1:9/cb", "Event": "TaskFinish", "Type": "Url", "ResultFormat": "XML", **fields}
    return lambda t: single(t, transcode(t), notify=config)


def ext_case(**fields: str) -> Case:
    return lambda t: single(t, transcode(t), ext_filter={"State": "On", **fields})


def smartcover_then_transcode(t: Templates) -> dict[str, Any]:
    return workflow_body(
        "wf-succ",
        {"Start": "SmartCover_1", "SmartCover_1": "Transcode_1", "Transcode_1": "End"},
        {"SmartCover_1": node("SmartCover", "c/${Number}.${Ext}"), "Transcode_1": transcode(t)},
    )


def empty_name(t: Templates) -> dict[str, Any]:
    body = single(t, transcode(t))
    body["MediaWorkflow"]["Name"] = ""
    return body


def bad_name(t: Templates) -> dict[str, Any]:
    body = single(t, transcode(t))
    body["MediaWorkflow"]["Name"] = "has spaces & symbols!"
    return body


def bad_state(t: Templates) -> dict[str, Any]:
    return single(t, transcode(t), state="Sleeping")


def no_topology(t: Templates) -> dict[str, Any]:
    return {"MediaWorkflow": {"Name": "wf-empty"}}


CASES: list[tuple[str, Case, list[str]]] = [
    ("missing-start", without_start, ["Start"]),
    ("start-wrong-type", start_of_wrong_type, ["Start", "Type Start"]),
    ("cycle", cycle, ["cycle", "Loop_A", "Loop_B"]),
    ("undefined-node", undefined_target, ["Node_1", "Ghost_1", "not defined"]),
    ("unreachable", unreachable, ["Orphan_1", "reached from Start"]),
    ("never-reaches-end", never_ends, ["Dangling_1", "End"]),
    ("unknown-type", lambda t: single(t, node("Teleport", "x/${InputName}")), ["Node_1", "unknown Type", "Teleport"]),
    (
        "no-processor-concat",
        lambda t: single(t, node("Concat", "x/${InputName}.${Ext}", TemplateId=t["transcode"])),
        ["Node_1", "Concat", "processor"],
    ),
    (
        "no-processor-segment",
        lambda t: single(t, node("Segment", "x/${InputName}-${Number}.${Ext}", Segment={"Format": "mp4"})),
        ["Node_1", "Segment", "processor"],
    ),
    (
        "template-missing",
        lambda t: single(t, node("Transcode", "x/${InputName}.${Ext}", TemplateId="t" + "0" * 33)),
        ["Node_1", "t" + "0" * 33, "does not exist"],
    ),
    (
        "template-wrong-tag",
        lambda t: single(t, node("Transcode", "x/${InputName}.${Ext}", TemplateId=t["snapshot"])),
        ["Node_1", "Tag Snapshot", "Transcode"],
    ),
    (
        "transcode-without-template",
        lambda t: single(t, node("Transcode", "x/${InputName}.${Ext}")),
        ["Node_1", "TemplateId"],
    ),
    (
        "smartcover-needs-number",
        lambda t: single(t, node("SmartCover", "covers/${InputName}.${Ext}", SmartCover={"Count": "3"})),
        ["Node_1", "${Number}", "covers/${InputName}.${Ext}"],
    ),
    ("output-bucket-missing", missing_output_bucket, ["Node_1", "Output Bucket", "nowhere-1250000000"]),
    ("notify-url", notify_case(Url="ftp://127.0.0.1/cb"), ["Start", "Url", "ftp://127.0.0.1/cb"]),
    ("notify-port", notify_case(Url="http://127.0.0.1:99999/cb"), ["Start", "Url", "99999"]),
    ("notify-event", notify_case(Event="TaskFinish,Bogus"), ["Start", "Event", "Bogus"]),
    ("notify-format", notify_case(ResultFormat="YAML"), ["Start", "ResultFormat"]),
    ("notify-type", notify_case(Type="TDMQ"), ["Start", "TDMQ"]),
    ("ext-state", ext_case(State="maybe"), ["Start", "ExtFilter State"]),
    ("ext-video", ext_case(Video="yes"), ["Start", "ExtFilter Video", "yes"]),
    ("ext-custom", ext_case(Custom="true"), ["Start", "CustomExts"]),
    ("smartcover-then-transcode", smartcover_then_transcode, ["SmartCover_1", "Transcode", "cannot be followed"]),
    ("empty-name", empty_name, ["Name"]),
    ("bad-name", bad_name, ["Name"]),
    ("bad-state", bad_state, ["State", "Sleeping"]),
    ("no-topology", no_topology, ["Topology"]),
]


@pytest.mark.parametrize("make, words", [(c[1], c[2]) for c in CASES], ids=[c[0] for c in CASES])
def test_invalid_workflow_is_refused(
    ci: CosS3Client, media_bucket: str, templates: Templates, make: Case, words: list[str]
) -> None:
    ci.ci_create_workflow(Bucket=media_bucket, Body=single(templates, transcode(templates)))  # one that is fine
    before = total(ci, media_bucket)
    with pytest.raises(CosServiceError) as caught:
        ci.ci_create_workflow(Bucket=media_bucket, Body=make(templates))
    err = caught.value
    assert err.get_status_code() == 400 and err.get_error_code() == "InvalidArgument", err.get_digest_msg()
    for word in words:
        assert word in err.get_error_msg(), (word, err.get_error_msg())
    assert total(ci, media_bucket) == before


def test_invalid_update_leaves_the_workflow_alone(ci: CosS3Client, media_bucket: str, templates: Templates) -> None:
    created = ci.ci_create_workflow(Bucket=media_bucket, Body=single(templates, transcode(templates)))
    workflow = created["MediaWorkflow"]
    with pytest.raises(CosServiceError) as caught:
        ci.ci_update_workflow(Bucket=media_bucket, WorkflowId=workflow["WorkflowId"], Body=cycle(templates))
    assert (caught.value.get_status_code(), caught.value.get_error_code()) == (400, "InvalidArgument")
    assert "cycle" in caught.value.get_error_msg()
    listed = ci.ci_get_workflow(Bucket=media_bucket, Ids=workflow["WorkflowId"])["MediaWorkflowList"][0]
    assert listed["Name"] == workflow["Name"] and listed["Topology"] == workflow["Topology"]
    assert listed["UpdateTime"] == workflow["UpdateTime"]


def test_smartcover_with_number_is_accepted(ci: CosS3Client, media_bucket: str) -> None:
    body = workflow_body(
        "wf-covers",
        {"Start": "SmartCover_1", "SmartCover_1": "End"},
        {"SmartCover_1": node("SmartCover", "covers/${InputName}-${Number}.${Ext}", SmartCover={"Count": "3"})},
    )
    workflow = ci.ci_create_workflow(Bucket=media_bucket, Body=body)["MediaWorkflow"]
    assert workflow["Topology"]["Nodes"]["SmartCover_1"]["Operation"]["SmartCover"] == {"Count": "3"}
    one = workflow_body(
        "wf-one-cover",
        {"Start": "SmartCover_1", "SmartCover_1": "End"},
        {"SmartCover_1": node("SmartCover", "covers/${InputName}.${Ext}", SmartCover={"Count": "1"})},
    )
    ci.ci_create_workflow(Bucket=media_bucket, Body=one)
    assert total(ci, media_bucket) == 2


def test_smartcover_may_feed_picprocess(ci: CosS3Client, media_bucket: str, templates: Templates) -> None:
    body = workflow_body(
        "wf-cover-pic",
        {"Start": "SmartCover_1", "SmartCover_1": "PicProcess_1", "PicProcess_1": "End"},
        {
            "SmartCover_1": node("SmartCover", "covers/${InputName}-${Number}.${Ext}"),
            "PicProcess_1": node("PicProcess", "pics/${InputName}.${Ext}", TemplateId=templates["pic"]),
        },
    )
    workflow = ci.ci_create_workflow(Bucket=media_bucket, Body=body)["MediaWorkflow"]
    assert workflow["Topology"]["Dependencies"]["SmartCover_1"] == "PicProcess_1"
    assert total(ci, media_bucket) == 1


# --- raw signed requests: bodies the SDK's dicts cannot express --------------------------------------


def post_workflow(ci: CosS3Client, server: ServerProcess, bucket: str, body: bytes) -> httpx.Response:
    return signed(ci, server, bucket, "POST", "/workflow", body=body)


def code_and_message(resp: httpx.Response) -> tuple[str, str]:
    return error_code(resp), error_field(resp, "Message")


def raw_body(dependencies: str, nodes: str) -> bytes:
    return (
        "<Request><MediaWorkflow><Name>wf-raw</Name><Topology>"
        f"<Dependencies>{dependencies}</Dependencies><Nodes>{nodes}</Nodes>"
        "</Topology></MediaWorkflow></Request>"
    ).encode()


def transcode_xml(template_id: str) -> str:
    return (
        f"<Type>Transcode</Type><Operation><TemplateId>{template_id}</TemplateId>"
        "<Output><Object>out/${InputName}.${Ext}</Object></Output></Operation>"
    )


START_XML = "<Start><Type>Start</Type><Input><ObjectPrefix>in/</ObjectPrefix></Input></Start>"


def test_raw_valid_body_is_accepted(
    ci: CosS3Client, engine_server: ServerProcess, media_bucket: str, templates: Templates
) -> None:
    """The raw path itself works, so the refusals below are about the bodies."""
    body = raw_body(
        "<Start>Transcode_1</Start><Transcode_1>End</Transcode_1>",
        START_XML + f"<Transcode_1>{transcode_xml(templates['transcode'])}</Transcode_1>",
    )
    resp = post_workflow(ci, engine_server, media_bucket, body)
    assert resp.status_code == 200, resp.text
    assert resp.headers.get("x-ci-request-id") and "<WorkflowId>w" in resp.text
    assert total(ci, media_bucket) == 1


@pytest.mark.parametrize(
    "make, code, words",
    [
        (
            lambda t: raw_body(
                "<Start>Transcode_1</Start><Transcode_1>End</Transcode_1>",
                START_XML
                + f"<Transcode_1>{transcode_xml(t['transcode'])}</Transcode_1>"
                + f"<Transcode_1>{transcode_xml(t['transcode'])}</Transcode_1>",
            ),
            "InvalidArgument",
            ["Transcode_1", "twice"],
        ),
        (
            lambda t: raw_body(
                "<Start>Transcode_1</Start><Start>Transcode_1</Start><Transcode_1>End</Transcode_1>",
                START_XML + f"<Transcode_1>{transcode_xml(t['transcode'])}</Transcode_1>",
            ),
            "InvalidArgument",
            ["Start", "twice"],
        ),
        (
            lambda t: raw_body(
                "<Start>Transcode_1</Start><Transcode_1>End</Transcode_1>",
                START_XML
                + "<Begin><Type>Start</Type></Begin>"
                + f"<Transcode_1>{transcode_xml(t['transcode'])}</Transcode_1>",
            ),
            "InvalidArgument",
            ["Start", "Begin"],
        ),
        (lambda t: b"<Request><MediaWorkflow><Name>x</Name>", "InvalidArgument", ["XML"]),
        (lambda t: b"this is not xml", "InvalidArgument", ["XML"]),
        (lambda t: BILLION_LAUGHS, "InvalidArgument", ["XML"]),
    ],
    ids=["duplicate-node", "two-start-dependencies", "two-start-nodes", "unclosed-xml", "not-xml", "billion-laughs"],
)
def test_raw_invalid_bodies(
    ci: CosS3Client,
    engine_server: ServerProcess,
    media_bucket: str,
    templates: Templates,
    make: Callable[[Templates], bytes],
    code: str,
    words: list[str],
) -> None:
    before = total(ci, media_bucket)
    resp = post_workflow(ci, engine_server, media_bucket, make(templates))
    got_code, message = code_and_message(resp)
    assert resp.status_code == 400 and got_code == code, resp.text
    assert resp.headers.get("x-ci-request-id"), resp.headers  # answered by the CI API
    for word in words:
        assert word in message, (word, message)
    assert "lollollol" not in resp.text
    assert total(ci, media_bucket) == before


def test_start_queue_of_the_wrong_kind_is_refused(ci: CosS3Client, media_bucket: str, templates: Templates) -> None:
    """Start/Input/QueueId names the media queue; the bucket's picture queue is not one."""
    picture_queue = as_list(ci.ci_get_media_pic_queue(Bucket=media_bucket)["QueueList"])[0]["QueueId"]
    body = single(templates, transcode(templates))
    body["MediaWorkflow"]["Topology"]["Nodes"]["Start"]["Input"]["QueueId"] = picture_queue
    before = total(ci, media_bucket)
    with pytest.raises(CosServiceError) as caught:
        ci.ci_create_workflow(Bucket=media_bucket, Body=body)
    assert (caught.value.get_status_code(), caught.value.get_error_code()) == (400, "InvalidArgument")
    assert f"queue {picture_queue} is a picture queue" in caught.value.get_error_msg()
    assert total(ci, media_bucket) == before
