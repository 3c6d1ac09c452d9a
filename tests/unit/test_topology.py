"""Workflow topology parsing and validation, ExtFilter, NotifyConfig and output-name rendering
(``domain.topology``, ``domain.extfilter``, ``domain.notify``, ``domain.outputs``)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from cosflow.domain.extfilter import ExtFilter, parse_ext_filter
from cosflow.domain.notify import EVENTS, NotifyConfig, parse_notify
from cosflow.domain.outputs import DEFAULT_MULTI_PATTERN, DEFAULT_PATTERN, NameContext, render, unknown_variables
from cosflow.domain.topology import MAX_NODES, Node, Template, Topology, parse_topology, validate
from cosflow.errors import InvalidArgument

# --- helpers ------------------------------------------------------------------------------------

PROCESSORS = {"Transcode", "Snapshot", "SmartCover", "PicProcess", "Animation"}
TEMPLATES = {
    "tTRANS": Template("tTRANS", "mp4", "Transcode", "Custom", ET.Element("Transcode")),
    "tSNAP": Template("tSNAP", "snap", "Snapshot", "Custom", ET.Element("Snapshot")),
    "tPIC": Template("tPIC", "pic", "PicProcess", "Custom", ET.Element("PicProcess")),
    "tCOVER": Template("tCOVER", "cover", "SmartCover", "Custom", ET.Element("SmartCover")),
}


def has_processor(node_type: str) -> bool:
    return node_type in PROCESSORS


def template_of(template_id: str) -> Template | None:
    return TEMPLATES.get(template_id)


def product_count(node: Node, template: Template | None) -> int:
    """SmartCover: Operation/SmartCover/Count (default 3); everything else one product."""
    if node.type != "SmartCover":
        return 1
    raw = node.operation.findtext("SmartCover/Count") if node.operation is not None else None
    return int(raw) if raw else 3


def op(template: str | None = None, output: str | None = "out/${InputName}.${Ext}", extra: str = "") -> str:
    parts = []
    if template is not None:
        parts.append(f"<TemplateId>{template}</TemplateId>")
    if output is not None:
        parts.append(f"<Output><Region>ap-guangzhou</Region><Object>{output}</Object></Output>")
    return "<Operation>" + "".join(parts) + extra + "</Operation>"


def task(node_type: str, operation: str = "") -> str:
    return f"<Type>{node_type}</Type>{operation}"


TRANSCODE = task("Transcode", op("tTRANS"))
SNAPSHOT = task("Snapshot", op("tSNAP", "snaps/${InputName}.${Ext}"))
PICPROCESS = task("PicProcess", op("tPIC", "pics/${InputName}-${Number}.${Ext}"))
START = "<Type>Start</Type><Input><ObjectPrefix>in/</ObjectPrefix></Input>"


def topology_xml(deps: dict[str, str] | list[tuple[str, str]], nodes: dict[str, str] | list[tuple[str, str]]) -> str:
    dep_items = deps.items() if isinstance(deps, dict) else deps
    node_items = nodes.items() if isinstance(nodes, dict) else nodes
    dep_xml = "".join(f"<{k}>{v}</{k}>" for k, v in dep_items)
    node_xml = "".join(f"<{k}>{v}</{k}>" for k, v in node_items)
    return f"<Topology><Dependencies>{dep_xml}</Dependencies><Nodes>{node_xml}</Nodes></Topology>"


def parse(deps: dict[str, str] | list[tuple[str, str]], nodes: dict[str, str] | list[tuple[str, str]]) -> Topology:
    return parse_topology(ET.fromstring(topology_xml(deps, nodes)))


def check(deps: dict[str, str], nodes: dict[str, str]) -> Topology:
    topo = parse(deps, nodes)
    validate(topo, has_processor, template_of, product_count)
    return topo


def refused(deps: dict[str, str], nodes: dict[str, str]) -> str:
    with pytest.raises(InvalidArgument) as caught:
        check(deps, nodes)
    return caught.value.message


# --- parsing ------------------------------------------------------------------------------------


def test_parse_builds_nodes_edges_and_end_set() -> None:
    topo = parse(
        {"Start": "Transcode_1,Snapshot_1", "Transcode_1": "PicProcess_1,End", "Snapshot_1": "PicProcess_1"}
        | {"PicProcess_1": "End"},
        {"Start": START, "Transcode_1": TRANSCODE, "Snapshot_1": SNAPSHOT, "PicProcess_1": PICPROCESS},
    )
    assert set(topo.nodes) == {"Start", "Transcode_1", "Snapshot_1", "PicProcess_1"}
    assert topo.nodes["Transcode_1"].type == "Transcode"
    assert topo.successors["Start"] == ("Transcode_1", "Snapshot_1")
    assert topo.successors["Transcode_1"] == ("PicProcess_1",)  # End is not a successor node
    assert topo.to_end == frozenset({"Transcode_1", "PicProcess_1"})
    assert topo.parents("PicProcess_1") == ("Transcode_1", "Snapshot_1")
    assert topo.parents("Transcode_1") == ()  # Start is not reported as a parent
    assert topo.has_start_parent("Snapshot_1") and not topo.has_start_parent("PicProcess_1")
    assert [n.key for n in topo.task_nodes()] == ["Transcode_1", "Snapshot_1", "PicProcess_1"]
    assert topo.nodes["Transcode_1"].template_id == "tTRANS"
    assert topo.nodes["PicProcess_1"].output_pattern == "pics/${InputName}-${Number}.${Ext}"


def test_parse_trims_spaces_in_dependency_lists() -> None:
    topo = parse({"Start": " Transcode_1 , Snapshot_1 ", "Transcode_1": " End", "Snapshot_1": "End "}, {})
    assert topo.successors["Start"] == ("Transcode_1", "Snapshot_1")
    assert topo.to_end == frozenset({"Transcode_1", "Snapshot_1"})


def test_node_without_operation_has_no_template_or_output() -> None:
    topo = parse({"Start": "T", "T": "End"}, {"Start": START, "T": "<Type>Transcode</Type>"})
    assert topo.nodes["T"].template_id == "" and topo.nodes["T"].output_pattern == ""


def test_start_input_fields() -> None:
    start = (
        "<Type>Start</Type><Input><ObjectPrefix>videos/</ObjectPrefix><QueueId> p1 </QueueId>"
        "<PicProcessQueueId>p2</PicProcessQueueId>"
        "<NotifyConfig><Url>http://127.0.0.1:9/cb</Url><Event>TaskFinish</Event></NotifyConfig>"
        "<ExtFilter><State>On</State><Video>true</Video></ExtFilter></Input>"
    )
    info = parse({"Start": "T", "T": "End"}, {"Start": start, "T": TRANSCODE}).start_input()
    assert (info.object_prefix, info.queue_id, info.pic_queue_id) == ("videos/", "p1", "p2")
    assert info.notify is not None and info.notify.url == "http://127.0.0.1:9/cb"
    assert info.notify.events == ("TaskFinish",)
    assert info.ext_filter.on and info.ext_filter.video and not info.ext_filter.audio


def test_start_input_defaults_when_input_is_absent() -> None:
    info = parse({"Start": "T", "T": "End"}, {"Start": "<Type>Start</Type>", "T": TRANSCODE}).start_input()
    assert (info.object_prefix, info.queue_id, info.pic_queue_id, info.notify) == ("", "", "", None)
    assert info.ext_filter == ExtFilter()


@pytest.mark.parametrize(
    "xml, words",
    [
        ("<Topology><Nodes/></Topology>", ["Dependencies", "Nodes"]),
        ("<Topology><Dependencies/></Topology>", ["Dependencies", "Nodes"]),
        (topology_xml({"Start": "T"}, [("Start", START), ("T", TRANSCODE), ("T", SNAPSHOT)]), ["T", "twice"]),
        (topology_xml([("Start", "T"), ("Start", "T"), ("T", "End")], {"Start": START}), ["Start", "twice"]),
        (topology_xml({"Start": "T"}, {"Start": START, "T": "<Operation/>"}), ["T", "no Type"]),
        (topology_xml({"Start": "T", "T": " , "}, {"Start": START}), ["T", "empty"]),
    ],
    ids=["no-dependencies", "no-nodes", "duplicate-node", "duplicate-dependency", "no-type", "empty-dependency"],
)
def test_parse_errors(xml: str, words: list[str]) -> None:
    with pytest.raises(InvalidArgument) as caught:
        parse_topology(ET.fromstring(xml))
    for word in words:
        assert word in caught.value.message


def test_parse_without_topology() -> None:
    with pytest.raises(InvalidArgument, match="Topology"):
        parse_topology(None)


# --- validation ----------------------------------------------------------------------------------


def test_valid_chain_with_fan_out_and_fan_in() -> None:
    topo = check(
        {"Start": "Transcode_1,Snapshot_1", "Transcode_1": "PicProcess_1", "Snapshot_1": "PicProcess_1"}
        | {"PicProcess_1": "End"},
        {"Start": START, "Transcode_1": TRANSCODE, "Snapshot_1": SNAPSHOT, "PicProcess_1": PICPROCESS},
    )
    assert topo.parents("PicProcess_1") == ("Transcode_1", "Snapshot_1")


def test_node_keys_are_arbitrary_names() -> None:
    check({"Start": "MyTranscodeNode", "MyTranscodeNode": "End"}, {"Start": START, "MyTranscodeNode": TRANSCODE})


def test_missing_start() -> None:
    message = refused({"T": "End"}, {"T": TRANSCODE})
    assert "Start" in message and "none" in message


def test_start_node_of_wrong_type() -> None:
    message = refused({"Start": "T", "T": "End"}, {"Start": TRANSCODE, "T": TRANSCODE})
    assert "Start" in message and "Type Start" in message


def test_start_type_under_another_key() -> None:
    message = refused(
        {"Start": "T", "T": "End", "Begin": "T"}, {"Start": START, "Begin": "<Type>Start</Type>", "T": TRANSCODE}
    )
    assert "exactly one" in message and "Begin" in message


def test_start_without_successors() -> None:
    message = refused({"T": "End"}, {"Start": START, "T": TRANSCODE})
    assert "Start" in message and "Dependencies" in message


def test_cycle() -> None:
    message = refused(
        {"Start": "A", "A": "B", "B": "A,End"}, {"Start": START, "A": TRANSCODE, "B": task("Transcode", op("tTRANS"))}
    )
    assert "cycle" in message and "A -> B -> A" in message


def test_self_loop() -> None:
    message = refused({"Start": "A", "A": "A,End"}, {"Start": START, "A": TRANSCODE})
    assert "cycle" in message and "A" in message


def test_edge_back_to_start() -> None:
    message = refused({"Start": "A", "A": "Start,End"}, {"Start": START, "A": TRANSCODE})
    assert "A" in message and "back to Start" in message


def test_edge_to_undefined_node() -> None:
    message = refused({"Start": "A", "A": "Ghost"}, {"Start": START, "A": TRANSCODE})
    assert "A" in message and "Ghost" in message and "not defined" in message


def test_dependency_of_undefined_node() -> None:
    message = refused({"Start": "A", "A": "End", "Ghost": "End"}, {"Start": START, "A": TRANSCODE})
    assert "Ghost" in message and "not defined" in message


def test_unreachable_node() -> None:
    message = refused(
        {"Start": "A", "A": "End", "Orphan": "End"}, {"Start": START, "A": TRANSCODE, "Orphan": TRANSCODE}
    )
    assert "Orphan" in message and "cannot be reached from Start" in message


def test_node_that_never_reaches_end() -> None:
    message = refused({"Start": "A", "A": "B"}, {"Start": START, "A": TRANSCODE, "B": TRANSCODE})
    assert "node B" in message and "End" in message


@pytest.mark.parametrize("key", ["Nod\u00e9", "T" + "x" * 128])
def test_invalid_node_key(key: str) -> None:
    message = refused({"Start": key, key: "End"}, {"Start": START, key: TRANSCODE})
    assert key in message and "not a valid name" in message


def test_unknown_type() -> None:
    message = refused({"Start": "A", "A": "End"}, {"Start": START, "A": task("Teleport", op("tTRANS"))})
    assert "node A" in message and "unknown Type" in message and "Teleport" in message


@pytest.mark.parametrize("node_type", ["Concat", "Segment", "VoiceSeparate"])
def test_real_type_without_processor(node_type: str) -> None:
    message = refused({"Start": "A", "A": "End"}, {"Start": START, "A": task(node_type, op("tTRANS"))})
    assert "node A" in message and node_type in message and "processor" in message


def test_template_that_does_not_exist() -> None:
    message = refused({"Start": "A", "A": "End"}, {"Start": START, "A": task("Transcode", op("tNOPE"))})
    assert "node A" in message and "tNOPE" in message and "does not exist" in message


def test_template_with_wrong_tag() -> None:
    message = refused({"Start": "A", "A": "End"}, {"Start": START, "A": task("Transcode", op("tSNAP"))})
    assert "node A" in message and "Tag Snapshot" in message and "needs Transcode" in message


@pytest.mark.parametrize("node_type", ["Transcode", "Snapshot", "Animation", "PicProcess"])
def test_template_required(node_type: str) -> None:
    message = refused({"Start": "A", "A": "End"}, {"Start": START, "A": task(node_type, op(None))})
    assert "node A" in message and "TemplateId" in message


def test_smartcover_template_optional_but_checked() -> None:
    nodes = {"Start": START, "A": task("SmartCover", op(None, "c/${Number}.${Ext}"))}
    check({"Start": "A", "A": "End"}, nodes)
    nodes = {"Start": START, "A": task("SmartCover", op("tCOVER", "c/${Number}.${Ext}"))}
    check({"Start": "A", "A": "End"}, nodes)
    message = refused(
        {"Start": "A", "A": "End"}, {"Start": START, "A": task("SmartCover", op("tTRANS", "c/${Number}.${Ext}"))}
    )
    assert "Tag Transcode" in message and "SmartCover" in message


def test_several_products_need_number_variable() -> None:
    three = "<SmartCover><Count>3</Count></SmartCover>"
    message = refused(
        {"Start": "A", "A": "End"}, {"Start": START, "A": task("SmartCover", op(None, "c/${InputName}.jpg", three))}
    )
    assert "node A" in message and "${Number}" in message and "c/${InputName}.jpg" in message
    for pattern in ("c/${Number}.jpg", "c/${number}.jpg", "c/${NUMBER}.jpg"):
        check({"Start": "A", "A": "End"}, {"Start": START, "A": task("SmartCover", op(None, pattern, three))})
    one = "<SmartCover><Count>1</Count></SmartCover>"
    check({"Start": "A", "A": "End"}, {"Start": START, "A": task("SmartCover", op(None, "c/x.jpg", one))})


def test_successor_rules() -> None:
    cover = task("SmartCover", op(None, "c/${Number}.${Ext}"))
    message = refused({"Start": "C", "C": "T", "T": "End"}, {"Start": START, "C": cover, "T": TRANSCODE})
    assert "node C" in message and "SmartCover" in message and "Transcode" in message and "PicProcess" in message
    check({"Start": "C", "C": "P", "P": "End"}, {"Start": START, "C": cover, "P": PICPROCESS})
    message = refused({"Start": "S", "S": "T", "T": "End"}, {"Start": START, "S": SNAPSHOT, "T": TRANSCODE})
    assert "node S" in message and "cannot be followed by Transcode" in message
    message = refused({"Start": "P", "P": "T", "T": "End"}, {"Start": START, "P": PICPROCESS, "T": TRANSCODE})
    assert "node P" in message
    # types without a rule are lenient: Transcode may feed Snapshot, Transcode, PicProcess
    check(
        {"Start": "T", "T": "S,U,P", "S": "End", "U": "End", "P": "End"},
        {"Start": START, "T": TRANSCODE, "S": SNAPSHOT, "U": TRANSCODE, "P": PICPROCESS},
    )


@pytest.mark.parametrize(
    "start_input, words",
    [
        ("<NotifyConfig><Url>ftp://example.com/cb</Url></NotifyConfig>", ["Start", "Url", "ftp://"]),
        ("<NotifyConfig><Url>http://h/cb</Url><Event>Bogus</Event></NotifyConfig>", ["Start", "Bogus"]),
        ("<NotifyConfig><Url>http://h/cb</Url><ResultFormat>YAML</ResultFormat></NotifyConfig>", ["ResultFormat"]),
        ("<NotifyConfig><Url>http://h/cb</Url><Type>TDMQ</Type></NotifyConfig>", ["TDMQ"]),
        ("<ExtFilter><State>maybe</State></ExtFilter>", ["Start", "ExtFilter State"]),
        ("<ExtFilter><State>On</State><Video>yes</Video></ExtFilter>", ["Start", "Video", "yes"]),
        ("<ExtFilter><State>On</State><Custom>true</Custom></ExtFilter>", ["Start", "CustomExts"]),
    ],
    ids=["url-scheme", "event", "format", "type", "ext-state", "ext-video", "ext-custom"],
)
def test_start_input_is_validated(start_input: str, words: list[str]) -> None:
    start = f"<Type>Start</Type><Input><ObjectPrefix/>{start_input}</Input>"
    message = refused({"Start": "A", "A": "End"}, {"Start": start, "A": TRANSCODE})
    for word in words:
        assert word in message


# --- ExtFilter -----------------------------------------------------------------------------------


def ext_filter(**fields: str) -> ExtFilter:
    element = ET.Element("ExtFilter")
    for name, value in fields.items():
        ET.SubElement(element, name).text = value
    return parse_ext_filter(element, "node Start")


def test_ext_filter_absent_or_off_matches_everything() -> None:
    assert parse_ext_filter(None, "x").matches("a.txt", "text/plain")
    off = ext_filter(State="Off", Video="true")
    assert off.matches("a.txt", "text/plain") and off.matches("noext", "")


def test_ext_filter_on_with_nothing_enabled_matches_nothing() -> None:
    f = ext_filter(State="On")
    assert not f.matches("a.mp4", "video/mp4") and not f.matches("a.jpg", "image/jpeg")


@pytest.mark.parametrize(
    "switch, yes, no",
    [
        ("Video", ["a.mp4", "d/b.MOV", "c.m3u8", "x.flv"], ["a.mp3", "a.jpg", "a.txt", "mp4"]),
        ("Audio", ["a.mp3", "d/b.FLAC", "c.m4a"], ["a.mp4", "a.png"]),
        ("Image", ["a.jpg", "d/b.PNG", "c.webp", "e.jpeg"], ["a.mp4", "a.mp3"]),
    ],
)
def test_ext_filter_switches(switch: str, yes: list[str], no: list[str]) -> None:
    f = ext_filter(State="On", **{switch: "true"})
    for key in yes:
        assert f.matches(key, "application/octet-stream"), key
    for key in no:
        assert not f.matches(key, "application/octet-stream"), key


def test_ext_filter_union_of_switches() -> None:
    f = ext_filter(State="on", Video="TRUE", Image="true")  # case-insensitive values
    assert f.matches("a.mp4", "") and f.matches("a.png", "") and not f.matches("a.mp3", "")


def test_ext_filter_custom_exts() -> None:
    f = ext_filter(State="On", Custom="true", CustomExts="abc/.XYZ/ mp4 ")
    assert f.custom_exts == frozenset({"abc", "xyz", "mp4"})
    assert f.matches("dir/file.abc", "") and f.matches("file.xYz", "") and f.matches("F.MP4", "")
    assert not f.matches("file.mov", "") and not f.matches("file", "")


def test_ext_filter_custom_exts_ignored_unless_custom() -> None:
    f = ext_filter(State="On", Custom="false", CustomExts="abc")
    assert not f.matches("a.abc", "")


def test_ext_filter_all_file() -> None:
    f = ext_filter(State="On", AllFile="true")
    assert f.matches("a.txt", "text/plain") and f.matches("noext", "")


def test_ext_filter_keys_without_extension() -> None:
    f = ext_filter(State="On", Video="true", Audio="true", Image="true")
    for key in ("README", "dir.mp4/file", "dir/", "trailingdot."):
        assert not f.matches(key, ""), key
    assert f.matches("dir.d/file.mp4", "")


def test_ext_filter_extension_follows_the_last_dot() -> None:
    video = ext_filter(State="On", Video="true")
    for key in ("a.b.mp4", "dir.x/clip.final.v2.MOV", "..mp4", "2024.01.01.flv"):
        assert video.matches(key, ""), key
    for key in ("a.mp4.txt", "movie.mp4.part", "a.mp4.", "v.mp4/readme"):
        assert not video.matches(key, ""), key
    custom = ext_filter(State="On", Custom="true", CustomExts="gz")
    assert custom.matches("backup.tar.gz", "") and not custom.matches("a.gz.bak", "")


def test_ext_filter_without_state_is_off() -> None:
    f = ext_filter(Video="true")
    assert not f.on and f.matches("a.txt", "text/plain")


def test_ext_filter_custom_exts_add_to_the_kinds() -> None:
    f = ext_filter(State="On", Video="true", Custom="true", CustomExts="bin")
    assert f.matches("a.mp4", "") and f.matches("a.bin", "") and not f.matches("a.mp3", "")


def test_ext_filter_content_type_major_is_before_the_first_slash() -> None:
    f = ext_filter(State="On", Video="true", ContentType="true")
    assert f.matches("x", 'video/mp4; name="a/b.mp4"')  # a slash in a parameter is not the type's
    assert not f.matches("x", "application/x-video/mp4")


def test_ext_filter_content_type_mode() -> None:
    f = ext_filter(State="On", Video="true", ContentType="true")
    assert f.matches("a.bin", "video/mp4")
    assert f.matches("noext", "Video/MP4")
    assert not f.matches("a.mp4", "application/octet-stream")  # the suffix no longer counts
    assert not f.matches("a.mp4", "audio/mpeg")
    audio = ext_filter(State="On", Audio="true", ContentType="true")
    assert audio.matches("x", "audio/mpeg") and not audio.matches("x", "video/mp4")
    image = ext_filter(State="On", Image="true", ContentType="true")
    assert image.matches("x", "image/png; charset=binary") and not image.matches("x", "")
    custom = ext_filter(State="On", ContentType="true", Custom="true", CustomExts="bin")
    assert custom.matches("a.BIN", "application/octet-stream") and not custom.matches("a.mp4", "video/mp4")


@pytest.mark.parametrize(
    "fields, word",
    [
        ({"State": "maybe"}, "State"),
        ({"State": "On", "Video": "yes"}, "Video"),
        ({"State": "On", "Audio": "1"}, "Audio"),
        ({"State": "On", "ContentType": "on"}, "ContentType"),
        ({"State": "On", "AllFile": "all"}, "AllFile"),
        ({"State": "On", "Custom": "true"}, "CustomExts"),
        ({"State": "On", "Custom": "true", "CustomExts": "/".join(f"e{i}" for i in range(11))}, "at most 10"),
    ],
)
def test_ext_filter_errors(fields: dict[str, str], word: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        ext_filter(**fields)
    assert word in caught.value.message and "node Start" in caught.value.message


def test_ext_filter_ten_custom_exts_allowed() -> None:
    f = ext_filter(State="On", Custom="true", CustomExts="/".join(f"e{i}" for i in range(10)))
    assert len(f.custom_exts) == 10 and f.matches("x.e9", "")


# --- NotifyConfig --------------------------------------------------------------------------------


def notify(**fields: str) -> NotifyConfig | None:
    element = ET.Element("NotifyConfig")
    for name, value in fields.items():
        ET.SubElement(element, name).text = value
    return parse_notify(element, "node Start")


def test_notify_absent_or_empty_is_none() -> None:
    assert parse_notify(None, "x") is None
    assert notify() is None
    assert notify(Url="", Event="", State="", Type="") is None


def test_notify_defaults() -> None:
    config = notify(Url="http://127.0.0.1:8000/cb")
    assert config is not None
    assert (config.url, config.result_format, config.state, config.type) == (
        "http://127.0.0.1:8000/cb",
        "XML",
        "On",
        "Url",
    )
    assert config.events == EVENTS and config.enabled
    assert all(config.wants(e) for e in EVENTS)


def test_notify_events_select_what_is_sent() -> None:
    config = notify(Url="https://example.com/cb", Event="TaskFinish, WorkflowFinish", ResultFormat="json")
    assert config is not None
    assert config.events == ("TaskFinish", "WorkflowFinish") and config.result_format == "JSON"
    assert config.wants("TaskFinish") and config.wants("WorkflowFinish") and not config.wants("WorkflowStart")


def test_notify_off() -> None:
    config = notify(State="off", Event="TaskFinish")
    assert config is not None and config.state == "Off" and not config.enabled and not config.wants("TaskFinish")
    with_url = notify(Url="http://h/cb", State="Off")
    assert with_url is not None and not with_url.enabled and not with_url.wants("WorkflowFinish")


@pytest.mark.parametrize(
    "fields, word",
    [
        ({"Url": "ftp://example.com/cb"}, "Url"),
        ({"Url": "http://"}, "Url"),
        ({"Url": "example.com/cb"}, "Url"),
        ({"State": "On", "Event": "TaskFinish"}, "needs a Url"),
        ({"Url": "http://h/cb", "Event": "TaskFinish,Bogus"}, "Bogus"),
        ({"Url": "http://h/cb", "ResultFormat": "YAML"}, "ResultFormat"),
        ({"Url": "http://h/cb", "Type": "TDMQ"}, "TDMQ"),
        ({"Url": "http://h/cb", "Type": "Kafka"}, "Kafka"),
        ({"Url": "http://h/cb", "State": "maybe"}, "State"),
    ],
)
def test_notify_errors(fields: dict[str, str], word: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        notify(**fields)
    assert word in caught.value.message and "node Start" in caught.value.message


# --- output names --------------------------------------------------------------------------------

CONTEXT = NameContext("in/dir/car.final.mp4", "i" + "1" * 32, "j" + "2" * 32)


def test_render_every_variable() -> None:
    pattern = "${InputPath}|${InputName}|${InputNameAndExt}|${RunId}|${JobId}|${Ext}|${Number}|${Time}"
    got = render(pattern, CONTEXT, "jpg", number=2, time_ms=3000)
    assert got == f"in/dir|car.final|car.final.mp4|{CONTEXT.run_id}|{CONTEXT.job_id}|jpg|2|3000"


def test_render_is_case_insensitive() -> None:
    got = render("${inputpath}/${INPUTNAME}-${number}.${ext}/${Jobid}/${runID}", CONTEXT, "png", number=0)
    assert got == f"in/dir/car.final-0.png/{CONTEXT.job_id}/{CONTEXT.run_id}"


def test_render_number_and_time_empty_when_not_given() -> None:
    assert render("a${Number}b${Time}c", CONTEXT, "mp4") == "abc"


def test_render_spec_example_at_bucket_root() -> None:
    context = NameContext("test1.mp4", "i" + "a" * 32, "j" + "b" * 32)
    expected = f"test1.mp4_{context.run_id}.flv"
    assert render("${InputNameAndExt}_${RunId}.${Ext}", context, "flv") == expected
    # an empty ${InputPath} must not leave a leading slash in the key
    assert render("${InputPath}/${InputNameAndExt}_${RunId}.${Ext}", context, "flv") == expected
    assert render("${InputPath}/out/${InputName}.${Ext}", context, "m3u8") == "out/test1.m3u8"


def test_render_input_without_extension() -> None:
    context = NameContext("dir/README", "i1", "j1")
    assert render("${InputPath}/${InputName}.${Ext}|${InputNameAndExt}", context, "mp4") == "dir/README.mp4|README"


def test_render_leaves_unknown_variables_alone() -> None:
    assert render("x/${Md5}/${Bogus}/${InputName}", CONTEXT, "mp4") == "x/${Md5}/${Bogus}/car.final"


def test_unknown_variables_are_reported() -> None:
    # the spec (§5.5) names ${Md5} as a variable that does not exist
    assert unknown_variables("x/${Md5}/${InputName}/${Bogus}/${number}") == ["${Md5}", "${Bogus}"]
    assert unknown_variables("${InputPath}/${inputname}.${EXT}") == []


def test_default_patterns() -> None:
    context = NameContext("car.mp4", "i1", "j1")
    assert render(DEFAULT_PATTERN, context, "mp4") == "car_j1.mp4"
    assert render(DEFAULT_MULTI_PATTERN, CONTEXT, "jpg", number=4) == f"in/dir/car.final_{CONTEXT.job_id}_4.jpg"


@pytest.mark.parametrize("pattern", ["out/${Md5}.${Ext}", "out/${InputName}-${Bogus}.${Ext}"])
def test_unknown_output_variables_are_refused_at_creation(pattern: str) -> None:
    message = refused(
        {"Start": "Transcode_1", "Transcode_1": "End"},
        {"Start": START, "Transcode_1": task("Transcode", op("tTRANS", pattern))},
    )
    assert "Transcode_1" in message and "unknown variable" in message


def test_known_output_variables_in_any_case_are_accepted() -> None:
    pattern = "${InputPath}/${inputname}-${RUNID}-${jobid}-${InputNameAndExt}.${ext}"
    check(
        {"Start": "Transcode_1", "Transcode_1": "End"},
        {"Start": START, "Transcode_1": task("Transcode", op("tTRANS", pattern))},
    )


def test_a_successor_listed_twice_is_refused_not_run_twice() -> None:
    message = refused(
        {"Start": "Transcode_1,Transcode_1", "Transcode_1": "End"}, {"Start": START, "Transcode_1": TRANSCODE}
    )
    assert message == "node Start lists Transcode_1 twice in Dependencies"


def test_a_topology_over_the_node_limit_is_refused_before_validation() -> None:
    chain = [f"Transcode_{i}" for i in range(1, MAX_NODES + 1)]  # with Start: one node too many
    deps = {"Start": chain[0]} | {a: b for a, b in zip(chain, chain[1:], strict=False)} | {chain[-1]: "End"}
    nodes = {"Start": START} | {key: TRANSCODE for key in chain}
    assert refused(deps, nodes) == f"a workflow has at most {MAX_NODES} nodes; this one has {MAX_NODES + 1}"
    assert check(dict(list(deps.items())[:-2]) | {chain[-2]: "End"}, dict(list(nodes.items())[:-1]))
