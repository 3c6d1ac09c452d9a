"""The whole CI surface of the official Python SDK, generated from the SDK's own method list.

Every CI method of ``CosS3Client`` and of the AI, MetaInsight and speech clients
(``tests/support/sdk_ci.py`` finds them by introspection, so a method a new SDK adds is covered
without editing this file) is called against one real server with arguments built from its
signature. Each call lands in one category (``sdk_ci.category``):

- *works*: only the methods in :data:`WORKS`, whose behaviour other tests check;
- *implemented, 4xx for made-up input*: cosflow has a handler for the operation and the handler
  refused the made-up ids and bodies: a CI error (Code, Message, Resource, RequestId) that is not
  501, not a refusal made before any handler runs, and that names the made-up id when the path
  carries one (so a handler that breaks into some other 4xx fails here);
- *not implemented (501)*: ``NotImplemented`` naming the operation;
- *SDK refused*: the SDK raised before sending.

Every request must be answered by the CI service (``Server: tencent-ci``), never fall through to
the object API, and no bucket, object or multipart upload may appear, change or vanish (issue 8
§1; conventions "The router is the contract"). A second pass calls every method that takes an id
with a badly shaped one (review 8 item 1). The tally of both passes is printed at the end of the
run and written to ``<pytest basetemp>/sdk-ci-surface.txt``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from qcloud_cos import CosS3Client

from cosflow.api import ci
from tests.conftest import SUMMARY, make_client
from tests.support.sdk_ci import (
    BAD_IDS,
    HANDLED_4XX,
    NOT_IMPLEMENTED,
    OBJECT_READ,
    SDK_REFUSED,
    Context,
    Outcome,
    SdkMethod,
    bad_id_arguments,
    call,
    category,
    ci_methods,
    id_parameters,
    routed,
)
from tests.support.sdk_ci import (
    WORKS as WORKED,
)
from tests.support.server import APPID, ServerProcess

#: Methods that work against cosflow today; their behaviour is tested in test_workflow_api.py,
#: test_templates_queues.py and test_workflow_validation.py. Everything else must be refused.
WORKS = frozenset(
    {
        "ci_get_workflow",
        "ci_create_template",
        "ci_get_template",
        "ci_get_asr_template",
        "ci_get_media_queue",
        "ci_get_media_pic_queue",
    }
)
#: Methods that exist to create, change or delete buckets or objects, and do so in cosflow. None
#: of the CI methods cosflow implements writes objects; a call not listed must change nothing.
CHANGES_STORAGE: frozenset[str] = frozenset()

METHODS = ci_methods()
Snapshot = dict[str, dict[str, tuple[str, str]]]


@pytest.fixture(scope="module")
def surface(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[CosS3Client, Context]]:
    """One server for the module, a bucket holding an image and a "video", and the tally printer."""
    tmp = tmp_path_factory.mktemp("ci-surface")
    server = ServerProcess(tmp / "data").start()
    try:
        client = make_client(server.port)
        yield client, Context.seeded(client, f"surface-{APPID}", tmp)
    finally:
        server.stop()


Tally = Counter[tuple[str, str, str]]  # (pass, SDK class, category)


@pytest.fixture(scope="module")
def reached() -> set[str]:
    """The names of the CI handlers the first pass's calls were routed to."""
    return set()


@pytest.fixture(scope="module")
def tally(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tally]:
    """Counts of each pass's categories, printed in the terminal summary and written to a file."""
    counts: Tally = Counter()
    yield counts
    lines = []
    for name in sorted({p for p, _, _ in counts}):
        total = sum(n for (p, _, _), n in counts.items() if p == name)
        kinds = Counter[str]()
        for (p, _, kind), n in counts.items():
            if p == name:
                kinds[kind] += n
        lines.append(
            f"SDK CI surface, {name}: {total} methods: " + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
        )
    report = tmp_path_factory.getbasetemp() / "sdk-ci-surface.txt"
    report.write_text("\n".join(lines) + "\n")
    request.config.stash.setdefault(SUMMARY, []).extend([*lines, f"(written to {report})"])


def snapshot(client: CosS3Client) -> Snapshot:
    """Every bucket, its objects (etag, size) and its multipart uploads."""
    state: Snapshot = {}
    for entry in client.list_buckets()["Buckets"]["Bucket"]:
        name = entry["Name"]
        objects: dict[str, tuple[str, str]] = {}
        marker = ""
        while True:
            page = client.list_objects(Bucket=name, Marker=marker, MaxKeys=1000)
            for item in page.get("Contents", []):
                objects[item["Key"]] = (item["ETag"], item["Size"])
            if page.get("IsTruncated") != "true":
                break
            marker = page["NextMarker"]
        for upload in client.list_multipart_uploads(Bucket=name).get("Upload", []):
            objects[f"<upload {upload['UploadId']}>"] = (upload["Key"], "")
        state[name] = objects
    return state


def test_the_sdk_has_the_ci_surface_the_issue_counted() -> None:
    """The introspection finds the SDK's CI methods (1.9.44: 111 on CosS3Client, 44 elsewhere)."""
    main = [m for m in METHODS if m.group == "CosS3Client"]
    assert len(main) >= 111
    assert len(METHODS) - len(main) >= 44
    assert {"ci_put_image_style", "ci_get_image_info", "ci_update_ai_queue"} <= {m.name for m in main}


@pytest.mark.parametrize("method", METHODS, ids=[m.id for m in METHODS])
def test_sdk_ci_method_works_or_gets_a_clear_ci_error(
    method: SdkMethod, surface: tuple[CosS3Client, Context], tally: Tally, reached: set[str]
) -> None:
    client, ctx = surface
    before = snapshot(client)
    outcome = call(method, client._conf, ctx)
    after = snapshot(client)
    kind = category(outcome)
    tally[("made-up input", method.group, kind)] += 1
    route = routed(outcome)
    if route is not None and route.name in ci.HANDLERS:
        reached.add(route.name)

    if method.name not in CHANGES_STORAGE:
        assert after == before, f"{method.id} changed buckets or objects: {_diff(before, after)}"
    _assert_answered_by_ci(outcome)
    assert kind in (WORKED, HANDLED_4XX, NOT_IMPLEMENTED, SDK_REFUSED), _explain(outcome)
    if kind == WORKED:
        assert method.name in WORKS, f"{method.id} succeeded silently: {_explain(outcome)}"
    elif kind == HANDLED_4XX:
        _assert_handler_refused(outcome)
    elif kind == NOT_IMPLEMENTED:
        _assert_not_implemented(outcome)


BAD_ID_METHODS = [m for m in METHODS if id_parameters(m)]


@pytest.mark.parametrize("method", BAD_ID_METHODS, ids=[m.id for m in BAD_ID_METHODS])
def test_sdk_ci_method_with_a_badly_shaped_id_changes_nothing(
    method: SdkMethod, surface: tuple[CosS3Client, Context], tally: Tally
) -> None:
    """Review 8 item 1: the demos' placeholder ids. A write is answered by the CI side (400
    naming the id, or 501); a read may be answered by the object API's 404 (it reads the key the
    path names: docs/design-choices.md "Routing"); nothing is stored or deleted."""
    client, ctx = surface
    before = snapshot(client)
    outcome = call(method, client._conf, ctx, bad_id_arguments(method, ctx))
    after = snapshot(client)
    kind = category(outcome)
    tally[("badly shaped ids", method.group, kind)] += 1

    assert after == before, f"{method.id} changed buckets or objects: {_diff(before, after)}"
    answer = outcome.answer
    if answer is None:
        assert kind == SDK_REFUSED, _explain(outcome)
        return
    if kind == OBJECT_READ:
        assert answer.method in ("GET", "HEAD"), _explain(outcome)
        return
    _assert_answered_by_ci(outcome)
    assert kind in (HANDLED_4XX, NOT_IMPLEMENTED), _explain(outcome)
    if kind == NOT_IMPLEMENTED:
        _assert_not_implemented(outcome)
        return
    _assert_handler_refused(outcome, by_handler=False)
    path = answer.url.split("?", 1)[0]
    if answer.method != "GET" and any(BAD_IDS[p] in path for p in id_parameters(method)):
        assert answer.field("Code") == "InvalidArgument" and "is not well formed" in answer.field("Message"), _explain(
            outcome
        )


def test_the_first_pass_reaches_every_handler_the_python_sdk_can(tally: Tally, reached: set[str]) -> None:
    """Every CI handler is reached by some SDK method, except DescribeMediaWorkflow by id
    (GET /workflow/<id>), which only the Go and Java SDKs send (Python lists with ?ids=)."""
    if sum(n for (p, _, _), n in tally.items() if p == "made-up input") < len(METHODS):
        pytest.skip("the first pass did not run in full (a -k selection)")
    assert reached == set(ci.HANDLERS) - {"get_workflow"}


def _assert_answered_by_ci(outcome: Outcome) -> None:
    for exchange in outcome.exchanges:
        assert exchange.server == "tencent-ci", (
            f"{outcome.method.id}: {exchange.method} {exchange.url} was answered by the object API "
            f"({exchange.status} {exchange.field('Code')})"
        )


#: Refusals made before any handler runs (api/app.py, api/ci.py dispatch, api/auth.py).
BEFORE_HANDLER = ("is not a CI operation", "needs a bucket host", "is not well formed", "signature", "must be signed")


def _assert_handler_refused(outcome: Outcome, *, by_handler: bool = True) -> None:
    """A CI-shaped 4xx from the operation's handler: Code, Message, Resource naming the path sent,
    RequestId; not a refusal made before the handler ran; naming the made-up id the path carries."""
    answer = outcome.answer
    assert answer is not None
    code, message, resource = answer.field("Code"), answer.field("Message"), answer.field("Resource")
    assert 400 <= answer.status < 500, _explain(outcome)
    assert code and message and resource and answer.field("RequestId"), _explain(outcome)
    assert code not in ("NotImplemented", "AccessDenied", "SignatureDoesNotMatch", "MethodNotAllowed"), _explain(
        outcome
    )
    path = answer.url.split("://", 1)[1].split("/", 1)[1].split("?", 1)[0]
    assert path.split("/", 1)[0] in resource, f"Resource {resource!r} does not name /{path}: {_explain(outcome)}"
    if not by_handler:
        return
    assert not any(text in message for text in BEFORE_HANDLER), _explain(outcome)
    made_up = [v for v in (outcome.kwargs.get(p) for p in id_parameters(outcome.method)) if v and v in path]
    assert all(v in message for v in made_up), f"the message does not name {made_up}: {_explain(outcome)}"
    route = routed(outcome)
    assert route is not None and route.name in ci.HANDLERS


def _assert_not_implemented(outcome: Outcome) -> None:
    answer = outcome.answer
    assert answer is not None
    assert answer.field("Message").startswith("the CI operation "), _explain(outcome)
    assert "is not implemented by cosflow" in answer.field("Message") and answer.field("RequestId"), _explain(outcome)


def _explain(outcome: Outcome) -> str:
    answer = outcome.answer
    if answer is None:
        return f"{outcome.method.id}: nothing sent ({outcome.error!r})"
    return (
        f"{outcome.method.id}: {answer.method} {answer.url} -> {answer.status} "
        f"{answer.field('Code')} {answer.field('Message')!r} ({outcome.error!r})"
    )


def _diff(before: Snapshot, after: Snapshot) -> str:
    changes = [f"bucket {b} {'appeared' if b in after else 'vanished'}" for b in set(before) ^ set(after)]
    for name in set(before) & set(after):
        keys = set(before[name]) | set(after[name])
        changes += [f"{name}/{k}" for k in sorted(keys) if before[name].get(k) != after[name].get(k)]
    return ", ".join(changes)


def test_the_coverage_doc_lists_every_sdk_ci_method() -> None:
    """docs/cos-api-coverage.md's CI table names every method found (regenerate it with
    ``.venv/bin/python -m tests.support.ci_coverage`` when the SDK grows)."""
    doc = (Path(__file__).resolve().parents[2] / "docs" / "cos-api-coverage.md").read_text()
    missing = [m.id for m in METHODS if f"`{m.id}`" not in doc]
    assert not missing, f"not in docs/cos-api-coverage.md: {missing}"
