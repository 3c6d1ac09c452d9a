"""Where a request goes (``api.routing.Router.resolve``): COS object API or CI, bucket and key."""

from __future__ import annotations

import pytest

from cosflow.api.routing import Router, Service, Style, Target, check_uri, match_ci
from cosflow.errors import InvalidURI

COS_HOST = "b-1250000000.cos.ap-guangzhou.myqcloud.com"
CI_HOST = "b-1250000000.ci.ap-guangzhou.myqcloud.com"
WORKFLOW_ID = "w" + "0123456789abcdef" * 2
RUN_ID = "i" + "5f17a1fb400411ee8834525400a3c6a1"
JOB_ID = "j" + "5f3e43d6400411ee8834525400a3c6a1"

router = Router(("myqcloud.com", "tencentcos.cn"))


def resolve(method: str, path: str, query: dict[str, str] | None = None, host: str = COS_HOST) -> Target:
    return router.resolve(host, method, path, query or {})


# --- the CI side of the rule on a .cos. host -----------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "path", "query"),
    [
        ("POST", "/workflow", {}),
        ("GET", "/workflow", {"ids": "", "name": "", "pageNumber": "", "pageSize": ""}),
        ("GET", "/workflow", {"pageNumber": "1"}),
        ("PUT", f"/workflow/{WORKFLOW_ID}", {"active": ""}),
        ("PUT", f"/workflow/{WORKFLOW_ID}", {"paused": ""}),
        ("PUT", f"/workflow/{WORKFLOW_ID}", {}),
        ("GET", f"/workflow/{WORKFLOW_ID}", {}),
        ("DELETE", f"/workflow/{WORKFLOW_ID}", {}),
        ("GET", f"/workflowexecution/{RUN_ID}", {}),
        ("GET", "/workflowexecution", {"workflowId": WORKFLOW_ID}),
        ("POST", "/triggerworkflow", {"workflowId": WORKFLOW_ID, "object": "a.mp4"}),
        ("POST", "/jobs", {}),
        ("GET", f"/jobs/{JOB_ID}", {}),
        ("PUT", f"/jobs/{JOB_ID}", {"cancel": ""}),
    ],
)
def test_ci_operations_on_the_cos_host_go_to_ci(method: str, path: str, query: dict[str, str]) -> None:
    target = resolve(method, path, query)
    assert target.service is Service.CI
    assert target.style is Style.VIRTUAL
    assert target.bucket == "b-1250000000"
    assert target.key is None
    assert target.signed_paths == (path,)


# --- the COS side: look-alikes stay objects -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "path", "query", "key"),
    [
        ("PUT", "/workflow", {}, "workflow"),
        ("GET", "/workflow", {}, "workflow"),
        ("HEAD", "/workflow", {}, "workflow"),
        ("DELETE", "/workflow", {}, "workflow"),
        ("GET", "/jobs/a.mp4", {}, "jobs/a.mp4"),
        ("PUT", "/workflow/notanid", {}, "workflow/notanid"),
        ("PUT", "/workflow/notanid", {"active": ""}, "workflow/notanid"),
        ("PUT", f"/workflow/{WORKFLOW_ID}x", {}, f"workflow/{WORKFLOW_ID}x"),  # one hex digit too many
        ("PUT", f"/workflow/{WORKFLOW_ID.upper()}", {}, f"workflow/{WORKFLOW_ID.upper()}"),
        ("GET", f"/workflowexecution/{RUN_ID[:-1]}", {}, f"workflowexecution/{RUN_ID[:-1]}"),
        ("GET", "/workflowexecution", {}, "workflowexecution"),
        ("PUT", "/triggerworkflow", {"workflowId": WORKFLOW_ID}, "triggerworkflow"),
        ("PUT", f"/jobs/{JOB_ID}", {}, f"jobs/{JOB_ID}"),  # cancel needs ?cancel
        ("POST", "/jobs/a.mp4", {"uploads": ""}, "jobs/a.mp4"),
        ("GET", "/workflow/", {}, "workflow/"),
        ("PUT", "/workflows", {}, "workflows"),
        ("GET", "/dir/workflow", {"ids": ""}, "dir/workflow"),
    ],
)
def test_object_requests_that_look_like_ci_stay_cos(method: str, path: str, query: dict[str, str], key: str) -> None:
    target = resolve(method, path, query)
    assert target.service is Service.COS
    assert target.style is Style.VIRTUAL
    assert target.bucket == "b-1250000000"
    assert target.key == key
    assert target.signed_paths == ("/" + key,)
    assert target.resource == f"b-1250000000/{key}"


def test_virtual_host_object_key_is_percent_decoded() -> None:
    target = resolve("GET", "/dir/a%2Fb%20c%E4%B8%AD+plus")
    assert target.key == "dir/a/b c中+plus"
    assert target.signed_paths == ("/dir/a/b c中+plus",)


def test_virtual_host_root_is_the_bucket() -> None:
    for path in ("/", ""):
        target = resolve("GET", path, {"prefix": ""})
        assert target.service is Service.COS
        assert target.bucket == "b-1250000000"
        assert target.key is None
        assert target.signed_paths == ("/",)
        assert target.resource == "b-1250000000"


@pytest.mark.parametrize(
    "host",
    [
        "b-1250000000.cos.ap-guangzhou.myqcloud.com:8080",
        "b-1250000000.cos.ap-guangzhou.tencentcos.cn",
        "b-1250000000.pic.ap-guangzhou.myqcloud.com",
    ],
)
def test_host_variants_are_virtual_hosted(host: str) -> None:
    target = resolve("GET", "/k", host=host)
    assert (target.service, target.style, target.bucket, target.key) == (
        Service.COS,
        Style.VIRTUAL,
        "b-1250000000",
        "k",
    )


def test_host_is_matched_case_insensitively_and_the_bucket_kept_as_sent() -> None:
    # The bucket part is not normalised: a bad name must reach the bucket rules (InvalidBucketName).
    target = resolve("GET", "/k", host="B-1250000000.COS.AP-GUANGZHOU.MYQCLOUD.COM")
    assert (target.service, target.style, target.bucket, target.key) == (
        Service.COS,
        Style.VIRTUAL,
        "B-1250000000",
        "k",
    )
    odd = resolve("GET", "/k", host="bad_name.cos.ap-guangzhou.myqcloud.com")
    assert (odd.style, odd.bucket) == (Style.VIRTUAL, "bad_name")
    assert resolve("GET", "/x", host="b-1250000000.CI.ap-guangzhou.myqcloud.com").service is Service.CI


# --- a .ci. host is always CI --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "path"),
    [("PUT", "/workflow"), ("GET", "/workflow"), ("GET", "/jobs/a.mp4"), ("GET", "/anything/else"), ("GET", "/")],
)
def test_ci_host_is_always_ci(method: str, path: str) -> None:
    target = resolve(method, path, host=CI_HOST)
    assert target.service is Service.CI
    assert target.bucket == "b-1250000000"
    assert target.key is None


def test_ci_host_with_port() -> None:
    assert resolve("GET", "/queue", host=CI_HOST + ":18080").service is Service.CI


# --- bare hosts: path style ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "host", ["127.0.0.1:8080", "localhost", "example.com", "b-1250000000.cos.ap-guangzhou.example.com"]
)
def test_bare_host_is_path_style(host: str) -> None:
    target = resolve("GET", "/b-1250000000/a%2Fb%20c", host=host)
    assert target.service is Service.COS
    assert target.style is Style.PATH
    assert target.bucket == "b-1250000000"
    assert target.key == "a/b c"
    # The bare Host names no bucket, so the signature must cover it: never "/a/b c" alone.
    assert target.signed_paths == ("/b-1250000000/a/b c",)
    assert target.resource == "b-1250000000/a/b c"


def test_path_style_nested_key_and_unicode() -> None:
    target = resolve("PUT", "/b-1250000000/dir/%E6%97%A5%E6%9C%AC/x%3Fy", host="127.0.0.1:8080")
    assert target.bucket == "b-1250000000"
    assert target.key == "dir/日本/x?y"


def test_path_style_root_is_service() -> None:
    for path in ("/", ""):
        target = resolve("GET", path, host="127.0.0.1:8080")
        assert target.service is Service.COS
        assert target.style is Style.PATH
        assert target.bucket is None
        assert target.key is None
        assert target.signed_paths == ("/",)
        assert target.resource == "/"


@pytest.mark.parametrize("path", ["/b-1250000000", "/b-1250000000/"])
def test_path_style_bucket_only(path: str) -> None:
    target = resolve("GET", path, {"prefix": ""}, host="127.0.0.1:8080")
    assert target.bucket == "b-1250000000"
    assert target.key is None
    assert target.signed_paths == ("/b-1250000000/", "/b-1250000000")
    assert target.resource == "b-1250000000"


def test_path_style_is_never_ci() -> None:
    target = resolve("POST", "/workflow", host="127.0.0.1:8080")
    assert target.service is Service.COS
    assert target.bucket == "workflow"
    assert target.key is None


def test_a_router_without_domains_treats_every_host_as_path_style() -> None:
    target = Router(()).resolve(COS_HOST, "GET", "/b-1250000000/k", {})
    assert target.style is Style.PATH
    assert (target.bucket, target.key) == ("b-1250000000", "k")


# --- match_ci directly ----------------------------------------------------------------------------------
def test_match_ci_names_the_operation_and_ignores_query_name_case() -> None:
    route = match_ci("GET", "/workflow", {"PageNumber": "1"})
    assert route is not None
    assert route.name == "list_workflows"
    assert match_ci("GET", "/workflow", {}) is None
    update = match_ci("PUT", f"/workflow/{WORKFLOW_ID}", {})
    assert update is not None and update.name == "update_workflow"
    jobs = match_ci("GET", f"/jobs/{JOB_ID},{JOB_ID}", {})
    assert jobs is not None and jobs.name == "get_jobs"


@pytest.mark.parametrize(
    "path, query",
    [
        (b"/%ff", b""),
        (b"/bucket-1250000000/a%c3", b""),
        (b"/%ed%a0%80", b""),  # an encoded surrogate is not UTF-8
        (b"/", b"prefix=%fe"),
        (b"/", b"a=1&marker=x%80y"),
        (b"/", b"%ff=1"),
    ],
)
def test_a_uri_that_is_not_utf8_is_invalid(path: bytes, query: bytes) -> None:
    with pytest.raises(InvalidURI):
        check_uri(path, query)


@pytest.mark.parametrize(
    "path, query",
    [
        (b"/%E4%B8%AD/a%20b", b""),
        (b"/k", b"prefix=%E4%B8%AD&marker=&uploads"),
        (b"/a%00b", b"x=%01"),
        (b"/", b"a+b=c+d"),
    ],
)
def test_utf8_uris_pass(path: bytes, query: bytes) -> None:
    check_uri(path, query)
