"""The whole CI surface of the official Python SDK, generated from the SDK's own method list.

Every CI method of ``CosS3Client`` and of the AI, MetaInsight and speech clients
(``tests/support/sdk_ci.py`` finds them by introspection, so a method a new SDK adds is covered
without editing this file) is called against one real server with arguments built from its
signature. Each call must either work (only the methods in :data:`WORKS`, whose behaviour other
tests check) or get a clear error from the CI side: 4xx or 501, a Code and a Message, and for 501
the operation named. Every request must be answered by the CI service (``Server: tencent-ci``),
never fall through to the object API, and no bucket, object or multipart upload may appear,
change or vanish (issue 8 §1; conventions "The router is the contract").
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from qcloud_cos import CosS3Client

from tests.conftest import make_client
from tests.support.media import make_image
from tests.support.sdk_ci import Context, Outcome, SdkMethod, call, ci_methods
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
        bucket = f"surface-{APPID}"
        client.create_bucket(Bucket=bucket)
        image = make_image(tmp / "pic.png", 64, 48)
        client.put_object(Bucket=bucket, Key="in/pic.png", Body=image.read_bytes())
        client.put_object(Bucket=bucket, Key="in/v.mp4", Body=b"a video stand-in")
        yield client, Context(bucket, "in/pic.png", "in/v.mp4", tmp, image)
    finally:
        server.stop()


@pytest.fixture(scope="module")
def tally(request: pytest.FixtureRequest) -> Iterator[Counter[tuple[str, str]]]:
    counts: Counter[tuple[str, str]] = Counter()
    yield counts
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    groups = sorted({group for group, _ in counts})
    line = "; ".join(
        f"{g}: {sum(n for (gg, _), n in counts.items() if gg == g)} methods, "
        + ", ".join(f"{n} {kind}" for (gg, kind), n in sorted(counts.items()) if gg == g)
        for g in groups
    )
    if reporter is not None:
        reporter.write_line(f"\nSDK CI surface: {line}")


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
    method: SdkMethod, surface: tuple[CosS3Client, Context], tally: Counter[tuple[str, str]]
) -> None:
    client, ctx = surface
    before = snapshot(client)
    outcome = call(method, client._conf, ctx)
    after = snapshot(client)
    tally[(method.group, outcome.kind)] += 1

    if method.name not in CHANGES_STORAGE:
        assert after == before, f"{method.id} changed buckets or objects: {_diff(before, after)}"
    for exchange in outcome.exchanges:
        assert exchange.server == "tencent-ci", (
            f"{method.id}: {exchange.method} {exchange.url} was answered by the object API "
            f"({exchange.status} {exchange.field('Code')})"
        )
    assert outcome.kind in ("works", "clear error", "SDK refused"), _explain(outcome)
    if outcome.kind == "works":
        assert method.name in WORKS, f"{method.id} succeeded silently: {_explain(outcome)}"
    elif outcome.kind == "clear error":
        _assert_clear_error(outcome)


def _assert_clear_error(outcome: Outcome) -> None:
    answer = outcome.answer
    assert answer is not None
    code, message = answer.field("Code"), answer.field("Message")
    assert answer.status == 501 or 400 <= answer.status < 500, _explain(outcome)
    assert code and message and answer.field("RequestId"), _explain(outcome)
    assert code not in ("NoSuchKey", "NoSuchBucket", "MethodNotAllowed", "BucketNotEmpty"), _explain(outcome)
    if answer.status == 501:
        assert code == "NotImplemented", _explain(outcome)
        assert message.startswith("the CI operation ") and "is not implemented by cosflow" in message


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
