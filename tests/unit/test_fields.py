"""The field walker (``domain.fields``) and its tables (``domain.schemas``): every honoured field is
really read by the code that claims it (its result changes with the field), and the tables cover
every node Type and template Tag that has a processor."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cosflow.domain import fields, schemas
from cosflow.domain.fields import BOOL, GIVEN, HONOURED, Honoured, Ignored, Schema, Unsupported, When
from cosflow.domain.topology import TEMPLATE_TAGS, parse_topology
from cosflow.errors import InvalidArgument
from cosflow.media import animation, picprocess, segment, smartcover, snapshot, transcode_plan
from cosflow.media.registry import FACTORIES
from tests.support import field_table
from tests.support import tencent_fields as tencent

# --- the walker -----------------------------------------------------------------------------------

SCHEMA = Schema(
    "a test body",
    {
        "A/B": HONOURED,
        "A/Flag": Honoured(values=BOOL),
        "A/Off": Honoured(values=("false",), refused="it is not built"),
        "A/Needs": Honoured(when=(When("A/Flag", ("true",)),)),
        "A/Check": Honoured(values=BOOL, when=(When("A/Flag", ("true",)),)),
        "A/Without": Honoured(requires=(When("A/B", GIVEN, negate=True),)),
        "A/Both": Honoured(when=(When("A/Flag", ("true",)),), requires=(When("A/B", GIVEN, negate=True),)),
        "Gone": Unsupported("never built"),
        "Id": Ignored("response-only"),
    },
)


def refusal(xml: str) -> str:
    with pytest.raises(InvalidArgument) as caught:
        fields.check(ET.fromstring(xml), SCHEMA, "here")
    return caught.value.message


def test_honoured_fields_pass() -> None:
    fields.check(ET.fromstring("<R><A><B>x</B><Flag>TRUE</Flag><Needs>1</Needs><Off>false</Off></A></R>"), SCHEMA, "")


@pytest.mark.parametrize(
    ("xml", "message"),
    [
        ("<R><A><C>1</C></A></R>", "here: A/C is unknown: it is not a field of a test body"),
        ("<R><Typo/></R>", "here: Typo is unknown: it is not a field of a test body"),  # even empty
        ("<R><Gone><X>1</X></Gone></R>", "here: Gone is not supported by cosflow (never built)"),
        ("<R><A><B>1</B><B>2</B></A></R>", "here: A/B is given more than once"),
        ("<R><A>text</A></R>", "here: A holds fields, not text"),
        ("<R><A><B><C>1</C></B></A></R>", "here: A/B/C is unknown: A/B is a value, not a group"),
        ("<R><A><Flag>yes</Flag></A></R>", "here: A/Flag must be true or false, got 'yes'"),
        (
            "<R><A><Off>true</Off></A></R>",
            "here: A/Off true is not supported by cosflow (it is not built); it takes false",
        ),
        ("<R><A><B>1</B><Without>1</Without></A></R>", "here: A/Without applies only when A/B is absent;"),
        ("<R><A><Flag>true</Flag><B>1</B><Both>1</Both></A></R>", "here: A/Both applies only when A/B is absent;"),
        ("<R><A><Check>yes</Check></A></R>", "here: A/Check must be true or false"),  # checked even without effect
    ],
)
def test_refusals_name_the_field(xml: str, message: str) -> None:
    assert refusal(xml).startswith(message)


@pytest.mark.parametrize(
    "xml",
    [
        "<R><A><Needs>1</Needs></A></R>",  # Flag absent: Needs tunes nothing, accepted without effect
        "<R><A><Flag>false</Flag><Needs>1</Needs><Check>true</Check></A></R>",
        "<R><A><B>1</B><Both>1</Both></A></R>",  # without effect, so nothing for B to contradict
    ],
)
def test_fields_whose_condition_is_unmet_are_accepted(xml: str) -> None:
    fields.check(ET.fromstring(xml), SCHEMA, "here")


def test_blank_known_fields_count_as_absent_and_ignored_fields_have_no_effect() -> None:
    fields.check(ET.fromstring("<R><Gone/><Id>w123</Id><A><B> </B><Off></Off></A></R>"), SCHEMA, "")


# --- the tables cover every processor --------------------------------------------------------------


def test_every_processor_has_a_node_table_and_its_tags_a_template_table() -> None:
    assert set(FACTORIES) | {"Start"} == set(schemas.NODES)
    used_tags = {TEMPLATE_TAGS[t][0] for t in FACTORIES if t in TEMPLATE_TAGS}
    assert used_tags == set(schemas.TEMPLATES)
    assert set(schemas.TEMPLATES) <= schemas.TENCENT_TAGS


@pytest.mark.parametrize(
    ("video", "container", "accepted"),
    [
        ("<Profile>main</Profile>", "mp4", True),  # Codec absent: H.264, the mp4 default
        ("<Codec>H.264</Codec><Profile>main</Profile>", "hls", True),
        ("<Codec>H.265</Codec><Profile>main</Profile>", "mp4", False),
        ("<Profile>main</Profile>", "webm", False),  # Codec absent: VP9
    ],
)
def test_profile_is_honoured_exactly_when_the_codec_is_h264(video: str, container: str, accepted: bool) -> None:
    body = ET.fromstring(
        f"<Request><Tag>Transcode</Tag><Name>t</Name><Container><Format>{container}</Format>"
        f"</Container><Video>{video}</Video></Request>"
    )
    if accepted:
        fields.check(body, schemas.TEMPLATES["Transcode"], "template")
        read = transcode_plan.parse(
            ET.fromstring(f"<T><Container><Format>{container}</Format></Container><Video>{video}</Video></T>")
        )
        assert read.video.profile == "main"
    else:
        with pytest.raises(InvalidArgument, match="Video/Profile"):
            fields.check(body, schemas.TEMPLATES["Transcode"], "template")


def test_audio_only_containers_match_the_transcoder() -> None:
    no_video = {c.format for c in transcode_plan.CONTAINERS.values() if not c.video}
    assert set(schemas.AUDIO_ONLY) == no_video


# --- every honoured field is read ----------------------------------------------------------------

Reader = Callable[[ET.Element], Any]


def _outcome(read: Reader, element: ET.Element) -> Any:
    try:
        return read(element)
    except Exception as exc:  # noqa: BLE001 - a refusal is an outcome too (the field was read)
        return ("refused", str(exc))


def _element(root: str, values: dict[str, str]) -> ET.Element:
    element = ET.Element(root)
    for path, value in values.items():
        parent = element
        for part in path.split("/")[:-1]:
            found = parent.find(part)
            parent = found if found is not None else ET.SubElement(parent, part)
        leaf = parent.find(path.split("/")[-1])
        (leaf if leaf is not None else ET.SubElement(parent, path.split("/")[-1])).text = value
    return element


_TEMPLATE_READERS: dict[str, Reader] = {
    "Transcode": transcode_plan.parse,
    "Snapshot": lambda body: snapshot.parse_params(None, body),
    "Animation": lambda body: animation.parse_params(None, body),
    "SmartCover": lambda body: smartcover.parse_params(None, body),
    "PicProcess": lambda body: picprocess.rule_text(None, body),
}
_TEMPLATE_BASES = {
    "Transcode": {"Container/Format": "mp4"},
    "Snapshot": {"Snapshot/Count": "1"},
    "Animation": {"Container/Format": "gif"},
    "SmartCover": {"SmartCover/Count": "1"},
    "PicProcess": {"PicProcess/ProcessRule": "imageMogr2/thumbnail/64x"},
}
#: Values that differ from the base where the walk's sample does not.
_PROBES = {("Snapshot", "Snapshot/Count"): "5", ("Animation", "Video/Codec"): "webp"}


def _probe_cases() -> list[tuple[str, str]]:
    cases = []
    for tag, schema in schemas.TEMPLATES.items():
        for path in schema.paths(Honoured):
            rule = schema.fields[path]
            assert isinstance(rule, Honoured)
            if "/" not in path or len(rule.values) == 1:  # request-level (Tag, Name) / a switch left at its default
                continue
            cases.append((tag, path))
    return cases


@pytest.mark.parametrize(("tag", "path"), _probe_cases())
def test_each_honoured_template_field_changes_what_the_processor_reads(tag: str, path: str) -> None:
    value, context = tencent.SAMPLES[tag][path]
    value = _PROBES.get((tag, path), value)
    read = _TEMPLATE_READERS[tag]
    without = _outcome(read, _element(tag, {**_TEMPLATE_BASES[tag], **context}))
    with_field = _outcome(read, _element(tag, {**_TEMPLATE_BASES[tag], **context, path: value}))
    assert without != with_field, f"{tag} {path}={value}: the processor's reading did not change"


# --- a field whose condition is unmet is accepted and changes nothing ------------------------------

#: Per body kind, contexts that leave a condition on the path unmet ("" = the field absent); each
#: case below uses those that really leave the condition unmet, and every condition must have one.
_UNMET: dict[str, dict[str, list[dict[str, str]]]] = {
    "Transcode": {
        "Container/Format": [{"Container/Format": f} for f in ("mp4", "mp3", "wav")],
        "Video/Remove": [{"Video/Remove": "true"}],
        "Video/Maxrate": [{"Video/Maxrate": ""}],
        "Video/Width": [{"Video/Width": "", "Video/Height": "360"}],
        "Video/Height": [{"Video/Height": "", "Video/Width": "640"}],
        "Audio/Remove": [{"Audio/Remove": "true"}],
        "Audio/Codec": [{"Container/Format": "flac", "Audio/Codec": "flac"}],
    },
    "Snapshot": {
        "Snapshot/Mode": [{"Snapshot/Mode": "Average"}, {"Snapshot/Mode": "KeyFrame"}],
        "Snapshot/TimeInterval": [{"Snapshot/TimeInterval": ""}],
        "Snapshot/IsCheckBlack": [{"Snapshot/IsCheckBlack": ""}, {"Snapshot/IsCheckBlack": "false"}],
        "Snapshot/SnapshotOutMode": [{"Snapshot/SnapshotOutMode": ""}, {"Snapshot/SnapshotOutMode": "OnlySnapshot"}],
    },
    "Animation": {
        "Container/Format": [{"Container/Format": "gif"}, {"Container/Format": "hgif"}],
        "Video/Codec": [{"Container/Format": "", "Video/Codec": "gif"}],
    },
    "Start": {"Input/ExtFilter/Custom": [{"Input/ExtFilter/Custom": ""}, {"Input/ExtFilter/Custom": "false"}]},
}


def _present(values: dict[str, str]) -> dict[str, str]:
    return {path: value for path, value in values.items() if value}


def _unmet_cases(kind: str, schema: Schema, base: dict[str, str]) -> list[tuple[str, str, dict[str, str]]]:
    """(path, value, context) for every honoured field with conditions, once per unmet context;
    asserts each condition is left unmet by at least one."""
    cases = []
    for path in schema.paths(Honoured):
        rule = schema.fields[path]
        assert isinstance(rule, Honoured)
        if not rule.when:
            continue
        value, context = tencent.SAMPLES[kind][path]
        for condition in rule.when:
            unmet = [
                ctx
                for ctx in _UNMET.get(kind, {}).get(condition.path, [])
                if not condition.holds(_element("R", _present({**base, **context, **ctx})))
            ]
            assert unmet, f"{kind} {path}: add a context to _UNMET that leaves {condition.describe()} unmet"
            cases += [(path, value, _present({**base, **context, **ctx})) for ctx in unmet]
    return cases


@pytest.mark.parametrize(
    ("tag", "path", "value", "context"),
    [
        (tag, *case)
        for tag, schema in schemas.TEMPLATES.items()
        for case in _unmet_cases(tag, schema, _TEMPLATE_BASES[tag])
    ],
)
def test_a_template_field_without_effect_is_accepted_and_changes_nothing(
    tag: str, path: str, value: str, context: dict[str, str]
) -> None:
    """docs/design-choices.md "Fields": ClipConfig/Duration on mp4, Video/* without a video stream,
    Snapshot TimeInterval outside Mode Interval, ... are accepted and read as if absent."""
    request = _element("Request", {"Tag": tag, "Name": "t", **context, path: value})
    fields.check(request, schemas.TEMPLATES[tag], "template")
    read = _TEMPLATE_READERS[tag]
    without = _outcome(read, _element(tag, context))
    assert not (isinstance(without, tuple) and without[:1] == ("refused",)), without
    assert _outcome(read, _element(tag, {**context, path: value})) == without


@pytest.mark.parametrize(("path", "value", "context"), _unmet_cases("Start", schemas.START_NODE, {}))
def test_a_start_field_without_effect_is_accepted_and_changes_nothing(
    path: str, value: str, context: dict[str, str]
) -> None:
    """ExtFilter/CustomExts with Custom absent or false (every SDK demo sends ``jpg/png`` so)."""
    fields.check(_element("Start", {"Type": "Start", **context, path: value}), schemas.START_NODE, "node Start")
    assert _start_reading({**context, path: value}) == _start_reading(context)


_NODE_READERS: dict[str, Reader] = {
    "SmartCover": lambda operation: smartcover.parse_params(operation, None),
    "Segment": segment.parse_params,
}
_NODE_BASES = {"SmartCover": {}, "Segment": {"Segment/Format": "mp4"}}


@pytest.mark.parametrize(
    ("node_type", "path"),
    [
        (t, p.removeprefix("Operation/"))
        for t in _NODE_READERS
        for p, rule in schemas.NODES[t].fields.items()
        if p.startswith(f"Operation/{t}/") and isinstance(rule, Honoured) and len(rule.values) != 1
    ],
)
def test_each_honoured_inline_field_changes_what_the_processor_reads(node_type: str, path: str) -> None:
    value, context = tencent.SAMPLES["Operation"][path]
    read = _NODE_READERS[node_type]
    without = _outcome(read, _element("Operation", {**_NODE_BASES[node_type], **context}))
    with_field = _outcome(read, _element("Operation", {**_NODE_BASES[node_type], **context, path: value}))
    assert without != with_field, f"{node_type} {path}={value}: the processor's reading did not change"


_START_PROBES = {
    "Input/NotifyConfig/SigningSecret": ("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", {}),
    "Input/NotifyConfig/State": ("Off", {}),
}


@pytest.mark.parametrize(
    "path",
    [
        p
        for p, rule in schemas.START_NODE.fields.items()
        if p.startswith("Input/") and isinstance(rule, Honoured) and len(rule.values) != 1
    ],
)
def test_each_honoured_start_field_changes_the_trigger(path: str) -> None:
    value, context = _START_PROBES.get(path) or tencent.SAMPLES["Start"][path]
    value = value.replace("{queue}", "p" + "1" * 32).replace("{pic_queue}", "p" + "2" * 32)
    url = {"Input/NotifyConfig/Url": "http://h/cb"} if "NotifyConfig" in path and not path.endswith("Url") else {}

    assert _start_reading({**url, **context}) != _start_reading({**url, **context, path: value}), path


def _start_reading(values: dict[str, str]) -> Any:
    """What the engine reads from a Start node holding ``values`` (or its refusal)."""
    node = _element("Start", {"Type": "Start", **values})
    topology = ET.fromstring("<Topology><Dependencies><Start>End</Start></Dependencies><Nodes/></Topology>")
    topology.find("Nodes").append(node)  # type: ignore[union-attr]
    return _outcome(lambda _: parse_topology(topology).start_input(), node)


def test_the_table_in_the_docs_is_the_code_s() -> None:
    page = (Path(__file__).parents[2] / "docs" / "workflows.md").read_text()
    assert field_table.markdown() in page, "regenerate the Fields table: tests/support/field_table.py"


def test_schema_names_take_the_right_article() -> None:
    assert schemas.TEMPLATES["Animation"].name == "an Animation template"
    assert schemas.NODES["Animation"].name == "an Animation node"
    assert schemas.TEMPLATES["Transcode"].name == "a Transcode template"
