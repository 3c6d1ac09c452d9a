"""The fuzz run: set up state by the SDK, then send ``requests`` mutated, signed requests and judge
every answer.

Why Hypothesis with ``phases=[Phase.generate]``, ``database=None`` and ``@seed``: its strategies
give the mutations (and its generator favours boundary values and recombines earlier choices),
the seed makes the run repeatable, and with shrinking and replay off every example is one request
sent exactly once, so a run sends a fixed number of requests. Failures are collected, not raised:
one 500 must not stop the run, and each finding carries its whole request as the reproducer (one
or two mutations of a valid request, named, so there is little to shrink). Each family gets its own
seeded Hypothesis run with an equal share of the requests, so every family is sent in any run of
more than ``len(FAMILIES)`` requests.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from qcloud_cos import CosS3Client

from tests.fuzz import mutations
from tests.fuzz.families import DOMAIN, FAMILIES, Spec, State
from tests.fuzz.mutations import Draw
from tests.fuzz.wire import Answer, Connection, Wire, judge, signed
from tests.support import templates
from tests.support.server import REGION
from tests.support.workflows import as_list, node, workflow_body

#: Query names tried beside a family's own (any may change what a request is).
QUERY_NAMES = (
    "response-content-type", "response-content-disposition", "response-cache-control", "response-expires",
    "max-keys", "marker", "prefix", "delimiter", "encoding-type", "partNumber", "uploadId", "max-parts",
    "part-number-marker", "max-uploads", "versionId", "pageNumber", "pageSize", "ids", "category", "workflowId",
    "object", "name", "states", "size", "nextToken", "startCreationTime", "endCreationTime", "queueIds", "state",
    "tag", "since", "limit", "ci-process", "uploads", "delete", "acl", "x-cos-traffic-limit",
)  # fmt: skip


class _Recorder:
    """Stands in for the SDK client to read the template bodies ``tests.support.templates`` sends."""

    def __init__(self) -> None:
        self.bodies: dict[str, dict[str, Any]] = {}

    def ci_create_template(self, Bucket: str, Template: dict[str, Any]) -> dict[str, Any]:  # noqa: N803 (SDK names)
        self.bodies[Template["Tag"]] = Template
        return {"Template": {"TemplateId": "recorded"}}


def _workflows(ids: dict[str, str]) -> list[dict[str, Any]]:
    """Workflows like the tests' (one task of each template kind, and a fan-out), on ``wf-in/``."""
    one = {"Start": "Task_1", "Task_1": "End"}
    transcode = node("Transcode", "out/${InputName}.mp4", TemplateId=ids["Transcode"])
    snapshot = node("Snapshot", "snap/${Number}.jpg", TemplateId=ids["Snapshot"])
    picprocess = node("PicProcess", "pic/${InputName}.png", TemplateId=ids["PicProcess"])
    notify = {"Url": "http://127.0.0.1:9/cb", "Event": "TaskFinish", "Type": "Url", "State": "On"}
    fan = {"Start": "Task_1,Task_2", "Task_1": "End", "Task_2": "End"}
    return [
        workflow_body("fz-tc", one, {"Task_1": transcode}, prefix="wf-in/"),
        workflow_body(
            "fz-snap", one, {"Task_1": snapshot}, prefix="wf-in/", ext_filter={"State": "On", "Video": "true"}
        ),
        workflow_body("fz-pic", one, {"Task_1": picprocess}, prefix="wf-in/", notify=notify),
        workflow_body("fz-fan", fan, {"Task_1": transcode, "Task_2": snapshot}, prefix="wf-in/"),
    ]


def prepare(client: CosS3Client, appid: str) -> State:
    """Buckets, objects, uploads, templates, workflows and a run, made by the SDK as a user would."""
    bucket, public, acl = f"fuzz-{appid}", f"fuzzpub-{appid}", f"fuzzacl-{appid}"
    client.create_bucket(Bucket=bucket)
    client.create_bucket(Bucket=public, ACL="public-read")
    client.create_bucket(Bucket=acl)
    keys = ["seed.txt", "dir/nested.txt", "empty", "wf-in/clip.txt"]
    for key in keys:
        client.put_object(Bucket=bucket, Key=key, Body=b"" if key == "empty" else f"content of {key}".encode())
    client.put_object(Bucket=bucket, Key="unicode-中.txt", Body=b"unicode")
    keys.append("unicode-%E4%B8%AD.txt")
    client.put_object(Bucket=public, Key="public.txt", Body=b"public bytes")
    client.put_object(Bucket=acl, Key="keep.txt", Body=b"keeps the bucket non-empty")
    uploads = [client.create_multipart_upload(Bucket=bucket, Key="upload.bin")["UploadId"] for _ in range(5)]
    etag = ""
    for upload in uploads:
        etag = client.upload_part(Bucket=bucket, Key="upload.bin", Body=b"part", PartNumber=1, UploadId=upload)["ETag"]
    recorder = _Recorder()
    for make in (templates.transcode_template, templates.snapshot_template, templates.picprocess_template):
        make(recorder, bucket)  # type: ignore[arg-type]
    ids = {tag: client.ci_create_template(Bucket=bucket, Template=body)["Template"]["TemplateId"]
           for tag, body in recorder.bodies.items()}  # fmt: skip
    victim_templates = [
        client.ci_create_template(Bucket=bucket, Template={**recorder.bodies["Snapshot"], "Name": f"victim-{n}"})[
            "Template"
        ]["TemplateId"]
        for n in range(3)
    ]
    bodies = _workflows(ids)
    workflow_ids = [client.ci_create_workflow(Bucket=bucket, Body=b)["MediaWorkflow"]["WorkflowId"] for b in bodies]
    victims = []
    for n in range(3):
        body = _workflows(ids)[1]
        body["MediaWorkflow"]["Name"] = f"victim-{n}"
        victims.append(client.ci_create_workflow(Bucket=bucket, Body=body)["MediaWorkflow"]["WorkflowId"])
    run_id = client.ci_trigger_workflow(Bucket=bucket, WorkflowId=workflow_ids[2], Key="wf-in/clip.txt")["InstanceId"]
    queue = as_list(client.ci_get_media_queue(Bucket=bucket)["QueueList"])[0]["QueueId"]
    pic_queue = as_list(client.ci_get_media_pic_queue(Bucket=bucket)["QueueList"])[0]["QueueId"]
    return State(
        bucket=bucket, public_bucket=public, acl_bucket=acl, keys=keys, upload_key="upload.bin",
        upload_ids=uploads[:3], part_etag=etag, templates=recorder.bodies, template_ids=list(ids.values()),
        workflows=bodies, workflow_ids=workflow_ids, queue_id=queue, pic_queue_id=pic_queue, run_ids=[run_id],
        appid=appid, victims={"templates": victim_templates, "workflows": victims, "uploads": uploads[3:]},
    )  # fmt: skip


# --- composing a request ---------------------------------------------------------------------------


@dataclass
class _Draft:
    key: str | None
    query: list[tuple[str, str | None]]
    headers: list[tuple[str, bytes]]
    body: bytes
    labels: list[str]
    unsigned: set[str] = field(default_factory=set)
    chunked: bool = False


def _mutate_query(draw: Draw, spec: Spec, d: _Draft) -> None:
    name = draw(st.sampled_from(spec.query_names or QUERY_NAMES) | st.sampled_from(QUERY_NAMES))
    label, value = mutations.query_value(draw)
    action = draw(st.sampled_from(["set", "set", "repeat", "bare"]))
    if action == "bare":
        d.query.append((name, None))
        d.labels.append(f"query:{name}:bare")
        return
    if action == "set":
        d.query = [(n, v) for n, v in d.query if n != name]
    d.query.append((name, value))
    d.labels.append(f"query:{name}:{label}" + (":repeated" if action == "repeat" else ""))


def _mutate_header(draw: Draw, spec: Spec, d: _Draft) -> None:
    label, (name, value) = mutations.header(draw, spec.header_names or ("X-Odd-Header",))
    if draw(st.booleans()):
        d.headers = [(n, v) for n, v in d.headers if n.lower() != name.lower()]
    d.headers.append((name, value))
    d.labels.append(label)


def _mutate(draw: Draw, spec: Spec, d: _Draft, kind: str) -> None:
    if kind == "key":
        label, d.key = mutations.key(draw)
        d.labels.append(label)
    elif kind == "query":
        _mutate_query(draw, spec, d)
    elif kind == "header":
        _mutate_header(draw, spec, d)
    elif kind == "xml":
        label, d.body = mutations.xml_body(draw, d.body)
        d.labels.append(label)
    elif kind == "chunked":
        d.chunked = True
        d.labels.append("transfer:chunked")
    elif kind == "unsigned" and d.query:
        d.unsigned.add(draw(st.sampled_from([n for n, _ in d.query])))
        d.labels.append("sign:param-unsigned")


def _host_and_path(draw: Draw, spec: Spec, key: str | None, port: int) -> tuple[str, str]:
    bare = f"127.0.0.1:{port}"
    if spec.host == "bare" or spec.bucket is None:
        return bare, spec.path
    if spec.host == "ci":
        svc = draw(st.sampled_from(["ci", "ci", "ci", "cos"]))
        return f"{spec.bucket}.{svc}.{REGION}.{DOMAIN}", spec.path
    inner = "/" + (key or "")
    if draw(st.integers(0, 4)) == 0:  # path style, one request in five
        return bare, f"/{spec.bucket}{inner}"
    return f"{spec.bucket}.cos.{REGION}.{DOMAIN}", inner


def compose(draw: Draw, spec: Spec, port: int) -> Wire:
    """``spec`` with none, one or two mutations, on a virtual host, path style or a ``.ci.`` host."""
    d = _Draft(spec.key, list(spec.query), list(spec.headers), spec.body, list(spec.labels))
    kinds = ["query", "header", "unsigned", *(["key"] if spec.key is not None else []),
             *(["chunked"] if spec.body else [])]  # fmt: skip
    xml_left = spec.body_kind == "xml"
    for _ in range(draw(st.sampled_from([0, 1, 1, 1, 2]))):
        kind = draw(st.sampled_from(kinds + ["xml"] * 4 if xml_left else kinds))
        xml_left = xml_left and kind != "xml"
        _mutate(draw, spec, d, kind)
    host, path = _host_and_path(draw, spec, d.key, port)
    return Wire(
        spec.family, spec.method, host, path, tuple(d.query), tuple(d.headers), d.body, spec.sign,
        frozenset(d.unsigned), d.chunked, tuple(d.labels),
    )  # fmt: skip


# --- the run and its report ----------------------------------------------------------------------


def coarse(label: str) -> str:
    """Where a mutation struck, without the value drawn: ``query:response-*``, ``header:Range``,
    ``key:nul``, ``xml:deepen-990`` (a key's or an XML body's class is the defect's own class)."""
    parts = label.split(":")
    if parts[0] == "query":
        return "query:response-*" if parts[1].startswith("response-") else f"query:{parts[1]}"
    if parts[0] == "header":
        return f"header:{parts[1]}"
    return ":".join(parts[:2])


@dataclass
class Finding:
    failure: str
    wire: Wire
    answer: Answer
    previous: dict[str, Any] | None

    @property
    def kind(self) -> tuple[str, int | None, tuple[str, ...]]:
        return self.failure, self.answer.status, tuple(sorted({coarse(m) for m in self.wire.mutations}))

    def reproducer(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "failure": self.failure,
            "status": self.answer.status,
            "code": self.answer.code,
            "detail": self.answer.detail,
            "answer_body": self.answer.body[:300].decode("utf-8", "backslashreplace"),
            "request": self.wire.excerpt(),
        }
        if self.previous is not None:
            found["previous_request_on_connection"] = self.previous
        return found


@dataclass
class Report:
    requests: int = 0
    families: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)
    findings: list[Finding] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, failure: str) -> int:
        return sum(1 for f in self.findings if f.failure == failure)

    def kinds(self) -> dict[tuple[str, int | None, tuple[str, ...]], list[Finding]]:
        """Findings by kind (failure, status, where the mutations struck). A kind whose mutations
        include those of a kind with the same failure and status is counted under the smaller."""
        grouped: dict[tuple[str, int | None, tuple[str, ...]], list[Finding]] = {}
        for finding in self.findings:
            grouped.setdefault(finding.kind, []).append(finding)
        merged: dict[tuple[str, int | None, tuple[str, ...]], list[Finding]] = {}
        for kind in sorted(grouped, key=lambda k: len(k[2])):
            home = next(
                (m for m in merged if m[:2] == kind[:2] and m[2] and set(m[2]) <= set(kind[2])),
                kind,
            )
            merged.setdefault(home, []).extend(grouped[kind])
        return merged

    def summary(self) -> dict[str, Any]:
        kinds = self.kinds()
        return {
            "requests": self.requests,
            "families": len(self.families),
            "variants": len({f.split(":")[0] for f in self.families}),
            "seconds": round(self.seconds, 1),
            "statuses": dict(sorted(self.statuses.items())),
            "5xx": self.count("5xx"),
            "dropped": self.count("dropped"),
            "no_answer": self.count("no-answer"),
            "bad_error_body": self.count("bad-error-body"),
            "kinds": [
                {
                    "failure": k[0],
                    "status": k[1],
                    "where": list(k[2]),
                    "count": len(found),
                    "codes": sorted({f.answer.code for f in found}),
                    "families": sorted({f.wire.family for f in found}),
                    "mutations": sorted({m for f in found for m in f.wire.mutations})[:12],
                    "example": found[0].reproducer(),
                }
                for k, found in sorted(kinds.items(), key=lambda item: (item[0][0], -len(item[1])))
            ],
        }


def fuzz(client: CosS3Client, port: int, state: State, requests: int, seed_value: int) -> Report:
    """Send about ``requests`` fuzz requests, an equal share per family (a family whose every
    variant has been sent stops early); every answer judged by ``wire.judge``."""
    report = Report()
    conn = Connection(port)
    previous: list[tuple[Wire, Answer]] = []
    started = time.monotonic()
    names = sorted(FAMILIES)
    try:
        for index, name in enumerate(names):
            share = requests // len(names) + (1 if index < requests % len(names) else 0)
            if share:
                _family_run(client, port, state, name, share, seed_value * 1000 + index, conn, report, previous)
    finally:
        conn.close()
        report.seconds = time.monotonic() - started
    return report


def _family_run(
    client: CosS3Client,
    port: int,
    state: State,
    name: str,
    share: int,
    seed_value: int,
    conn: Connection,
    report: Report,
    previous: list[tuple[Wire, Answer]],
) -> None:
    builder = FAMILIES[name]

    @settings(
        max_examples=share,
        database=None,
        phases=[Phase.generate],
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @seed(seed_value)
    @given(st.data())
    def one(data: st.DataObject) -> None:
        spec = builder(data.draw, state)
        wire = signed(client, compose(data.draw, spec, port))
        answer = conn.send(wire)
        report.requests += 1
        report.families[name] += 1
        report.statuses[str(answer.status or answer.failure)] += 1
        failure = judge(wire, answer)
        if failure:
            before = None
            if answer.reused and previous:
                p_wire, p_answer = previous[-1]
                before = {**p_wire.excerpt(80), "status": p_answer.status, "code": p_answer.code}
            report.findings.append(Finding(failure, wire, answer, before))
        previous[:] = [(wire, answer)]

    one()


def write(report: Report, path: str) -> None:
    with open(path, "w") as out:
        json.dump(
            {**report.summary(), "findings": [f.reproducer() for f in report.findings]}, out, indent=1, default=str
        )
