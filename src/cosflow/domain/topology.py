"""Workflow topologies (spec §5.2-5.4): parsing the XML and the rules a valid DAG obeys."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from cosflow.domain import fields, schemas
from cosflow.domain.extfilter import ExtFilter, parse_ext_filter
from cosflow.domain.notify import NotifyConfig, parse_notify
from cosflow.domain.outputs import unknown_variables
from cosflow.errors import InvalidArgument

END = "End"
START = "Start"
#: Nodes in one workflow, Start included. Far above real media pipelines; it bounds the work of
#: validating a topology (done inside the write transaction) and of checking it on every upload.
MAX_NODES = 100

#: Node Types the CI service defines (spec §5.2). A Type outside this set is unknown; a Type in
#: it without a processor in this server is refused at creation, never faked.
NODE_TYPES = frozenset(
    [
        "Snapshot",
        "Animation",
        "SmartCover",
        "Transcode",
        "Concat",
        "VoiceSeparate",
        "VideoMontage",
        "StreamPackConfig",
        "SDRtoHDR",
        "VideoProcess",
        "SCF",
        "SuperResolution",
        "Segment",
        "PicProcess",
        "Tts",
        "SpeechRecognition",
        "VideoEnhance",
        "MediaInfo",
        "AIRecognition",
        "SegmentVideoBody",
        "ImageInspect",
        "HighSpeedHd",
        "VideoStream",
        "StreamPack",
        "Condition",
    ]
)

#: Successor rules that matter (spec §5.2); other types are validated leniently.
SUCCESSORS = {
    "Snapshot": frozenset({"PicProcess", "SCF"}),
    "SmartCover": frozenset({"PicProcess", "SCF"}),
    "Animation": frozenset({"SCF"}),
    "PicProcess": frozenset({"SCF"}),
    "Segment": frozenset({"VideoEnhance", "SegmentVideoBody"}),
}

#: The template Tag each node Type's TemplateId must have; ``required`` when the node needs one.
TEMPLATE_TAGS: dict[str, tuple[str, bool]] = {
    "Transcode": ("Transcode", True),
    "Snapshot": ("Snapshot", True),
    "Animation": ("Animation", True),
    "SmartCover": ("SmartCover", False),
    "PicProcess": ("PicProcess", True),
    "Concat": ("Concat", True),
    "VoiceSeparate": ("VoiceSeparate", True),
    "VideoMontage": ("VideoMontage", True),
    "VideoStream": ("Transcode", True),
    "VideoProcess": ("VideoProcess", True),
    "SuperResolution": ("SuperResolution", True),
}

_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,127}$")
_NUMBER = re.compile(r"\$\{number\}", re.IGNORECASE)


@dataclass(frozen=True)
class Template:
    template_id: str
    name: str
    tag: str
    category: str
    body: ET.Element = field(compare=False)


@dataclass(frozen=True)
class Node:
    key: str
    type: str
    input: ET.Element | None = field(default=None, compare=False)
    operation: ET.Element | None = field(default=None, compare=False)
    #: The whole node element (Type, Input, Operation), for the field check.
    element: ET.Element | None = field(default=None, compare=False)

    @property
    def template_id(self) -> str:
        return (self.operation.findtext("TemplateId") or "").strip() if self.operation is not None else ""

    @property
    def output_pattern(self) -> str:
        return (self.operation.findtext("Output/Object") or "").strip() if self.operation is not None else ""


@dataclass(frozen=True)
class StartInput:
    object_prefix: str
    queue_id: str
    pic_queue_id: str
    notify: NotifyConfig | None
    ext_filter: ExtFilter


@dataclass(frozen=True)
class Topology:
    nodes: dict[str, Node]
    #: node key -> successor keys, ``End`` excluded
    successors: dict[str, tuple[str, ...]]
    #: nodes that list End among their successors
    to_end: frozenset[str]

    def parents(self, key: str) -> tuple[str, ...]:
        return tuple(k for k, succ in self.successors.items() if key in succ and k != START)

    def has_start_parent(self, key: str) -> bool:
        return key in self.successors.get(START, ())

    def task_nodes(self) -> list[Node]:
        return [n for k, n in self.nodes.items() if k != START]

    def start_input(self) -> StartInput:
        node = self.nodes[START]
        element = node.input
        where = "node Start"
        return StartInput(
            object_prefix=(element.findtext("ObjectPrefix") or "") if element is not None else "",
            queue_id=((element.findtext("QueueId") or "").strip()) if element is not None else "",
            pic_queue_id=((element.findtext("PicProcessQueueId") or "").strip()) if element is not None else "",
            notify=parse_notify(element.find("NotifyConfig") if element is not None else None, where),
            ext_filter=parse_ext_filter(element.find("ExtFilter") if element is not None else None, where),
        )


def parse_topology(element: ET.Element | None) -> Topology:
    if element is None:
        raise InvalidArgument("MediaWorkflow needs a Topology with Dependencies and Nodes")
    deps, nodes_el = element.find("Dependencies"), element.find("Nodes")
    if deps is None or nodes_el is None:
        raise InvalidArgument("Topology needs both Dependencies and Nodes")
    if max(len(nodes_el), len(deps)) > MAX_NODES:
        raise InvalidArgument(f"a workflow has at most {MAX_NODES} nodes; this one has {max(len(nodes_el), len(deps))}")
    nodes: dict[str, Node] = {}
    for child in nodes_el:
        if child.tag in nodes:
            raise InvalidArgument(f"node {child.tag} is defined twice in Nodes")
        node_type = (child.findtext("Type") or "").strip()
        if not node_type:
            raise InvalidArgument(f"node {child.tag} has no Type")
        nodes[child.tag] = Node(child.tag, node_type, child.find("Input"), child.find("Operation"), child)
    successors: dict[str, tuple[str, ...]] = {}
    to_end: set[str] = set()
    for child in deps:
        if child.tag in successors:
            raise InvalidArgument(f"node {child.tag} appears twice in Dependencies")
        targets = [t.strip() for t in (child.text or "").split(",") if t.strip()]
        if not targets:
            raise InvalidArgument(f"Dependencies of node {child.tag} are empty (use End)")
        twice = sorted({t for t in targets if targets.count(t) > 1})
        if twice:
            raise InvalidArgument(f"node {child.tag} lists {twice[0]} twice in Dependencies")
        if END in targets:
            to_end.add(child.tag)
        successors[child.tag] = tuple(t for t in targets if t != END)
    return Topology(nodes, successors, frozenset(to_end))


def _check_shape(topo: Topology) -> None:
    starts = [k for k, n in topo.nodes.items() if n.type == START]
    if len(starts) != 1 or starts[0] != START:
        raise InvalidArgument(f"a workflow needs exactly one node named Start of Type Start, found {starts or 'none'}")
    if START not in topo.successors or not topo.successors[START]:
        raise InvalidArgument("Dependencies must list the successors of Start")
    for key in list(topo.successors) + list(topo.nodes):
        if not _KEY.match(key):
            raise InvalidArgument(f"node key {key!r} is not a valid name")
    for key, targets in topo.successors.items():
        if key not in topo.nodes:
            raise InvalidArgument(f"Dependencies name node {key}, which is not defined in Nodes")
        for target in targets:
            if target == START:
                raise InvalidArgument(f"node {key} points back to Start")
            if target not in topo.nodes:
                raise InvalidArgument(f"node {key} points to {target}, which is not defined in Nodes")
    for key in topo.nodes:
        if key not in topo.successors and key not in topo.to_end:
            raise InvalidArgument(f"node {key} has no entry in Dependencies (its successors or End)")


def _check_acyclic(topo: Topology) -> None:
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done

    def visit(key: str, path: list[str]) -> None:
        state[key] = 1
        for nxt in topo.successors.get(key, ()):
            if state.get(nxt) == 1:
                cycle = path[path.index(nxt) :] + [nxt] if nxt in path else [key, nxt]
                raise InvalidArgument(f"the topology has a cycle: {' -> '.join(cycle)}")
            if nxt not in state:
                visit(nxt, path + [nxt])
        state[key] = 2

    for key in topo.nodes:
        if key not in state:
            visit(key, [key])


def _reachable(start: Iterable[str], edges: Callable[[str], Iterable[str]]) -> set[str]:
    seen, stack = set(), list(start)
    while stack:
        key = stack.pop()
        if key not in seen:
            seen.add(key)
            stack.extend(edges(key))
    return seen


def _check_connected(topo: Topology) -> None:
    from_start = _reachable([START], lambda k: topo.successors.get(k, ()))
    unreachable = sorted(set(topo.nodes) - from_start)
    if unreachable:
        raise InvalidArgument(f"node {unreachable[0]} cannot be reached from Start")
    reaches_end = _reachable(topo.to_end, lambda k: topo.parents(k) + ((START,) if topo.has_start_parent(k) else ()))
    stuck = sorted(set(topo.nodes) - reaches_end)
    if stuck:
        raise InvalidArgument(f"node {stuck[0]} never reaches End")


def _check_types(topo: Topology, has_processor: Callable[[str], bool]) -> None:
    for node in topo.task_nodes():
        if node.type == START:
            continue
        if node.type not in NODE_TYPES:
            raise InvalidArgument(f"node {node.key}: unknown Type {node.type!r}")
        if not has_processor(node.type):
            raise InvalidArgument(f"node {node.key}: Type {node.type} has no processor in this server yet")
        allowed = SUCCESSORS.get(node.type)
        for nxt in topo.successors.get(node.key, ()):
            if allowed is not None and topo.nodes[nxt].type not in allowed:
                raise InvalidArgument(
                    f"node {node.key}: a {node.type} node cannot be followed by {topo.nodes[nxt].type} "
                    f"(allowed: {', '.join(sorted(allowed))}, End)"
                )


def validate(
    topo: Topology,
    has_processor: Callable[[str], bool],
    template_of: Callable[[str], Template | None],
    product_count: Callable[[Node, Template | None], int],
    region: str = "",
) -> None:
    """Raise :class:`InvalidArgument` naming the node and the problem, or return.

    Every field of every node is honoured or refused (:data:`schemas.NODES`, issue 8); an
    ``Output/Region`` must be ``region`` (this server's) when one is given.
    """
    _check_shape(topo)
    _check_acyclic(topo)
    _check_connected(topo)
    _check_fields(topo.nodes[START])
    topo.start_input()  # NotifyConfig and ExtFilter values
    _check_types(topo, has_processor)
    for node in topo.task_nodes():
        _check_fields(node)
        _check_region(node, region)
        _check_output_names(node)
        template = _check_template(node, template_of)
        if product_count(node, template) > 1 and not _NUMBER.search(node.output_pattern):
            raise InvalidArgument(
                f"node {node.key}: this {node.type} produces several objects, so Output/Object must "
                f"contain ${{Number}} (got {node.output_pattern!r})"
            )


def _check_fields(node: Node) -> None:
    schema = schemas.NODES.get(node.type)
    if schema is None:  # a processor without a field table: a server defect, refused rather than guessed
        raise InvalidArgument(f"node {node.key}: Type {node.type} has no field table in this server")
    if node.element is not None:
        fields.check(node.element, schema, f"node {node.key}")


def _check_region(node: Node, region: str) -> None:
    given = (node.operation.findtext("Output/Region") or "").strip() if node.operation is not None else ""
    if given and region and given != region:
        raise InvalidArgument(
            f"node {node.key}: Output/Region {given} is not this server's region ({region}); "
            "cosflow writes outputs to its own buckets only"
        )


def _check_output_names(node: Node) -> None:
    for field_name in ("Output/Object", "Output/SpriteObject"):
        pattern = (node.operation.findtext(field_name) or "") if node.operation is not None else ""
        unknown = unknown_variables(pattern)
        if unknown:
            raise InvalidArgument(f"node {node.key}: {field_name} uses unknown variable {unknown[0]} (spec §5.5)")


def _check_template(node: Node, template_of: Callable[[str], Template | None]) -> Template | None:
    tag, required = TEMPLATE_TAGS.get(node.type, ("", False))
    template_id = node.template_id
    if not template_id:
        if required:
            raise InvalidArgument(f"node {node.key}: a {node.type} node needs Operation/TemplateId")
        return None
    template = template_of(template_id)
    if template is None:
        raise InvalidArgument(f"node {node.key}: template {template_id} does not exist")
    if tag and template.tag != tag:
        raise InvalidArgument(
            f"node {node.key}: template {template_id} has Tag {template.tag}, a {node.type} node needs {tag}"
        )
    return template
