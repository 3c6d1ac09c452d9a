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


# --- the whole CI table (ci_table.CI_ROUTES): SDK shapes are CI on every host ----------------------------
QUEUE_ID = "p" + "0123456789abcdef" * 2
PIC_OPS = {"Pic-Operations": '{"rules":[{"fileid":"a.png","rule":"imageView2/format/png"}]}'}


@pytest.mark.parametrize(
    ("method", "path", "query", "headers", "name"),
    [
        ("PUT", "/", {"style": ""}, {}, "put_image_style"),
        ("GET", "/", {"style": ""}, {}, "get_image_style"),
        ("DELETE", "/", {"style": ""}, {}, "delete_image_style"),
        ("PUT", "/", {"guetzli": ""}, {}, "put_guetzli"),
        ("GET", "/", {"hotlink": ""}, {}, "get_hotlink"),
        ("DELETE", "/", {"origin-protect": ""}, {}, "close_origin_protect"),
        ("GET", "/in/pic.png", {"imageInfo": ""}, {}, "get_image_info"),
        ("GET", "/in/pic.png", {"exif": ""}, {}, "get_image_exif"),
        ("GET", "/in/pic.png", {"imageAve": ""}, {}, "get_image_ave"),
        ("GET", "/in/pic.png", {"imageInspect": ""}, {}, "image_inspect_query"),
        ("GET", "/in/pic.png", {"imageMogr2/thumbnail/64x": ""}, {}, "image_processing"),
        ("GET", "/in/pic.png", {"imagemogr2/thumbnail/!50p|watermark/2/text/5pWw": "="}, {}, "image_processing"),
        ("GET", "/in/pic.png", {"imageView2/format/png": "", "response-content-type": "x"}, {}, "image_processing"),
        ("GET", "/in/pic.png", {"watermark/1/image/aHR0cA": ""}, {}, "image_processing"),
        ("HEAD", "/in/pic.png", {"imageMogr2/strip": ""}, {}, "image_processing"),
        ("PUT", "/in/pic.png", {"imageInfo": ""}, {}, "image_processing"),
        ("POST", "/in/pic.png", {"image_process": ""}, PIC_OPS, "image_process"),
        ("GET", "/in/pic.png", {"ci-process": "ImageInspect"}, {}, "image_inspect"),
        ("GET", "/in/v.mp4", {"ci-process": "videoinfo"}, {}, "get_media_info"),
        ("GET", "/in/v.mp4", {"CI-Process": "SNAPSHOT", "time": "1"}, {}, "get_snapshot"),
        ("GET", "/", {"ci-process": "detect-label", "detect-url": "http://x"}, {}, "detect_label"),
        ("GET", "/in/pic.png", {"ci-process": "SomethingNew"}, {}, "ci_process"),
        ("PUT", "/in/id.jpg", {"ci-process": "IDCardOCR"}, {}, "id_card_ocr_on_upload"),
        ("POST", "/in/pic.png", {"ci-process": "ImageSearch", "action": "AddImage"}, {}, "image_search_gallery"),
        ("PUT", "/in/pic.png", {}, PIC_OPS, "pic_operations"),
        ("POST", "/in/big.png", {"uploadId": "u1"}, PIC_OPS, "pic_operations"),
        ("POST", "/in/big.png", {"uploads": ""}, PIC_OPS, "pic_operations"),
        ("PUT", f"/ai_queue/{QUEUE_ID}", {}, {}, "update_ai_queue"),
        ("PUT", f"/asrqueue/{QUEUE_ID}", {}, {}, "update_asr_queue"),
        ("PUT", f"/docqueue/{QUEUE_ID}", {}, {}, "update_doc_queue"),
        ("POST", f"/picqueue/{QUEUE_ID}", {}, {}, "update_pic_queue"),
        ("GET", "/ai_queue", {"queueIds": "", "state": "All"}, {}, "list_ai_queues"),
        ("PUT", f"/inventorytriggerjob/{JOB_ID}", {"cancel": ""}, {}, "cancel_inventory_trigger_job"),
        ("POST", "/inventorytriggerjob", {}, {}, "create_inventory_trigger_job"),
        ("PUT", "/playKey", {"masterPlayKey": "k1"}, {}, "update_play_key"),
        ("PUT", "/playKey", {"backupPlayKey": "k2"}, {}, "update_play_key"),
        ("POST", "/playKey", {}, {}, "create_play_key"),
        ("PUT", "/asrhotvocabtable", {}, {}, "update_asr_vocabulary"),
        ("GET", "/asrhotvocabtable/08417b95c91a0123456789abcdef0123", {}, {}, "get_asr_vocabulary"),
        ("POST", "/pic_jobs", {}, {}, "create_pic_jobs"),
        ("GET", "/doc_jobs/d" + "0123456789abcdef" * 2, {}, {}, "get_doc_jobs"),
        ("GET", "/text/auditing/st" + "0123456789abcdef" * 2, {}, {}, "get_text_auditing"),
        ("POST", "/video/cancel_auditing/av" + "0123456789abcdef" * 2, {}, {}, "cancel_live_auditing"),
        ("GET", "/mediabucket", {"regions": "", "pageNumber": ""}, {}, "list_media_buckets"),
        ("POST", "/audit/textlib/lib1/keyword", {}, {}, "add_audit_keyword"),
    ],
)
def test_sdk_ci_shapes_on_the_object_host_are_ci(
    method: str, path: str, query: dict[str, str], headers: dict[str, str], name: str
) -> None:
    route = match_ci(method, path, query, headers)
    assert route is not None and route.name == name
    target = router.resolve(COS_HOST, method, path, query, headers)
    assert (target.service, target.bucket, target.ci) == (Service.CI, "b-1250000000", route)
    # An operation on an object keeps the key for its handler; a reserved path names none.
    assert target.key == (path[1:] if route.kind.value != "reserved path" and path != "/" else None)


@pytest.mark.parametrize(
    ("method", "path", "query", "headers"),
    [
        ("PUT", "/playKey", {}, {}),  # no masterPlayKey/backupPlayKey: an object named playKey
        ("GET", "/playKey", {}, {}),
        ("HEAD", "/playKey", {}, {}),
        ("DELETE", "/picbucket", {}, {}),
        ("PUT", "/dataset", {}, {}),
        ("GET", "/mediabucket", {}, {}),
        ("GET", "/asrhotvocabtable", {}, {}),
        ("GET", "/asrhotvocabtable/a/b.txt", {}, {}),
        ("PUT", "/ai_queue/notanid", {}, {}),
        ("PUT", f"/ai_queue/{QUEUE_ID}", {"uploadId": "u", "partNumber": "1"}, {}),
        ("GET", "/doc_jobs/report.pdf", {}, {}),
        ("POST", "/jobs", {"uploads": ""}, {}),
        ("PUT", "/style", {}, {}),
        ("PUT", "/a.png", {"style": ""}, {}),  # ?style is a bucket sub-resource only
        ("GET", "/in/pic.png", {"response-content-type": "image/png"}, {}),
        ("GET", "/in/pic.png", {"imageinfox": ""}, {}),
        ("GET", "/in/pic.png", {"versionId": "imageInfo"}, {}),
        ("GET", "/", {"prefix": "imageInfo"}, {}),
        ("PUT", "/in/pic.png", {}, {"Pic-Operation": "x"}),
        ("GET", "/audit/strategy/x", {}, {}),
    ],
)
def test_object_requests_without_a_ci_shape_stay_cos(
    method: str, path: str, query: dict[str, str], headers: dict[str, str]
) -> None:
    assert match_ci(method, path, query, headers) is None
    target = router.resolve(COS_HOST, method, path, query, headers)
    assert target.service is Service.COS
    assert target.key == (path[1:] or None)


def test_path_style_applies_the_same_table_inside_the_bucket() -> None:
    bare = "127.0.0.1:8080"
    info = router.resolve(bare, "GET", "/b-1250000000/in/pic.png", {"imageInfo": ""})
    assert (info.service, info.style, info.bucket, info.key) == (Service.CI, Style.PATH, "b-1250000000", "in/pic.png")
    assert info.ci is not None and info.ci.name == "get_image_info"
    assert info.signed_paths == ("/b-1250000000/in/pic.png",)
    style = router.resolve(bare, "PUT", "/b-1250000000/", {"style": ""})
    assert style.service is Service.CI and style.bucket == "b-1250000000" and style.ci_path == "/"
    upload = router.resolve(bare, "PUT", "/b-1250000000/a.png", {}, PIC_OPS)
    assert upload.service is Service.CI and upload.key == "a.png"
    queue = router.resolve(bare, "PUT", f"/b-1250000000/ai_queue/{QUEUE_ID}", {})
    assert queue.ci is not None and queue.ci.name == "update_ai_queue" and queue.ci_path == f"/ai_queue/{QUEUE_ID}"
    plain = router.resolve(bare, "PUT", "/b-1250000000/playKey", {})
    assert (plain.service, plain.key) == (Service.COS, "playKey")
    root = router.resolve(bare, "GET", "/", {"ci-process": "AIObjectDetect"})
    assert root.service is Service.CI and root.bucket is None


@pytest.mark.parametrize(
    ("method", "path", "query", "name"),
    [
        ("GET", "/mediabucket", {}, "list_media_buckets"),
        ("DELETE", "/picbucket", {}, "close_pic_bucket"),
        ("GET", "/playKey", {}, "get_play_key"),
        ("POST", "/dataset", {}, "create_dataset"),
        ("GET", "/datasets", {"maxresults": "100"}, "list_datasets"),
        ("POST", "/datasetquery/simple", {}, "dataset_simple_query"),
        ("POST", "/ImageSearchBucket", {}, "open_image_search"),
    ],
)
def test_bucket_less_ci_resources_on_the_bare_host_are_ci(
    method: str, path: str, query: dict[str, str], name: str
) -> None:
    # None of these can be a bucket name (no -<appid>); the Python SDK sends them with no bucket.
    target = router.resolve("127.0.0.1:8080", method, path, query)
    assert (target.service, target.bucket, target.key) == (Service.CI, None, None)
    assert target.ci is not None and target.ci.name == name
    service_host = router.resolve("ci.ap-guangzhou.myqcloud.com", method, path, query)
    assert service_host.service is Service.CI and service_host.ci == target.ci


def test_ci_host_needs_no_disambiguating_query() -> None:
    listing = resolve("GET", "/mediabucket", host=CI_HOST)
    assert listing.ci is not None and listing.ci.name == "list_media_buckets"
    workflows = resolve("GET", "/workflow", host=CI_HOST)
    assert workflows.ci is not None and workflows.ci.name == "list_workflows"
    opened = resolve("PUT", "/", host=CI_HOST)
    assert opened.ci is not None and opened.ci.name == "open_ci_service"
    style = resolve("PUT", "/", {"style": ""}, host=CI_HOST)
    assert style.ci is not None and style.ci.name == "put_image_style"
    assert resolve("GET", "/a.mp4", host=CI_HOST).ci is None  # CI, but no operation: 400


def test_pic_host_follows_the_object_host_rules() -> None:
    pic = "b-1250000000.pic.ap-guangzhou.myqcloud.com"
    assert resolve("PUT", "/", {"style": ""}, host=pic).service is Service.CI
    assert resolve("PUT", "/", {}, host=pic).service is Service.COS


def test_operations_describe_themselves_for_the_501_message() -> None:
    info = match_ci("GET", "/in/pic.png", {"imageInfo": ""})
    assert info is not None and info.describe("GET", {"imageInfo": ""}) == "GetImageInfo (GET /<key>?imageInfo)"
    query = {"ci-process": "SomethingNew"}
    other = match_ci("PUT", "/a", query)
    assert (
        other is not None
        and other.describe("PUT", query) == "ci-process=SomethingNew (PUT /[<key>]?ci-process=SomethingNew)"
    )
    pipe = {"imageMogr2/thumbnail/!50p|watermark/2": ""}
    proc = match_ci("GET", "/a", pipe)
    assert proc is not None and "imageMogr2/thumbnail/!50p|watermark/2" in proc.describe("GET", pipe)


def test_every_row_has_a_name_an_api_and_a_wire_form() -> None:
    from cosflow.api.routing import CI_ROUTES

    for route in CI_ROUTES:
        assert route.name.isidentifier() and route.api and route.wire.split(" ", 1)[1].startswith("/")


def test_every_handler_is_registered_under_a_row_name() -> None:
    from cosflow.api import ci
    from cosflow.api.routing import CI_ROUTES

    assert set(ci.HANDLERS) <= {route.name for route in CI_ROUTES}


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


# --- review 8 item 1: writes with a badly shaped id and a CI sign are CI (ci.dispatch answers 400) ----------
XML = {"Content-Type": "application/xml"}


@pytest.mark.parametrize(
    ("method", "path", "query", "headers", "name"),
    [
        ("PUT", "/workflow/wd34ca394909xxxxxxxxxxxx4d", {}, XML, "update_workflow"),
        ("PUT", "/workflow/wd34ca3949090xxxxxxxxxx44d", {"paused": ""}, {}, "update_workflow"),
        ("PUT", "/workflow/short", {}, {"content-type": "text/xml; charset=utf-8"}, "update_workflow"),
        ("DELETE", "/workflow/wd34ca39490904xxxxxxxxxx744d", {}, {}, "delete_workflow"),
        ("PUT", "/queue/p5135bcxxxxxxxxxxxxxxxxf047454", {}, XML, "update_queue"),
        ("PUT", "/picqueue/peb83bdxxxxxxxxxxxxxxxxxx4a21c7d68", {}, XML, "update_pic_queue"),
        ("POST", "/picqueue/peb83bd-x", {}, XML, "update_pic_queue"),
        ("PUT", "/template/T1E801DD4A9FC", {}, XML, "update_template"),
        ("DELETE", "/template/T1E801DD4A9FC", {}, {}, "delete_template"),
        ("PUT", "/jobs/j5f3e43dxxxx", {"cancel": ""}, {}, "cancel_job"),
        ("PUT", "/ai_queue/p0123xxxxxxx", {}, XML, "update_ai_queue"),
        ("PUT", "/inventorytriggerjob/b97c37f492adf11xxxxxxxxxxxx", {"cancel": ""}, {}, "cancel_inventory_trigger_job"),
        ("DELETE", "/asrhotvocabtable/08417b95c91xxxxxxxxxxxxx", {}, {}, "delete_asr_vocabulary"),
        ("POST", "/video/cancel_auditing/av5f3e43d6xxxx", {}, {}, "cancel_live_auditing"),
        ("POST", "/picqueue/peb83bdxxxxxxxxxx4a21c7d68", {}, {}, "update_pic_queue"),
    ],
)
def test_writes_with_a_badly_shaped_id_and_a_ci_sign_are_ci(
    method: str, path: str, query: dict[str, str], headers: dict[str, str], name: str
) -> None:
    route = match_ci(method, path, query, headers)
    assert route is not None and route.name == name
    assert not route.pattern.match(path)  # ci.dispatch refuses the id by this
    assert router.resolve(COS_HOST, method, path, query, headers).service is Service.CI


@pytest.mark.parametrize(
    ("method", "path", "query", "headers"),
    [
        ("PUT", "/workflow/wd34ca394909xxxxxxxxxxxx4d", {}, {}),  # no sign: put_object sends the same
        ("PUT", "/workflow/wd34ca394909xxxxxxxxxxxx4d", {}, {"Content-Type": "application/octet-stream"}),
        ("PUT", "/workflow/config.xml", {}, XML),  # a dot: a file name, not an id
        ("PUT", "/workflow/a/b", {}, XML),
        ("PUT", "/workflow/notanid", {"paused": ""}, {}),  # no digit: not id-like
        ("DELETE", "/workflow/README", {}, {}),
        ("DELETE", "/workflow/notes2024.txt", {}, {}),
        ("DELETE", "/workflow/w1234", {}, {}),  # too short to be an id
        ("GET", "/workflow/wd34ca394909xxxxxxxxxxxx4d", {}, XML),  # reads are never loose
        ("HEAD", "/workflow/wd34ca394909xxxxxxxxxxxx4d", {}, {}),
        ("PUT", "/workflow/wd34ca394909xxxxxxxxxxxx4d", {"uploadId": "u", "partNumber": "1"}, XML),
        ("PUT", "/jobs/j5f3e43dxxxx", {}, {}),  # a cancel needs ?cancel
        ("DELETE", "/queue/p5135bcxxxxxxxxxxxxxxxxf047454", {}, {}),  # queues are never deleted
        ("POST", "/video/cancel_auditing/notes", {}, {}),  # not id-like (and a 405 on the object API)
    ],
)
def test_look_alike_writes_without_a_ci_sign_stay_cos(
    method: str, path: str, query: dict[str, str], headers: dict[str, str]
) -> None:
    assert match_ci(method, path, query, headers) is None
    assert router.resolve(COS_HOST, method, path, query, headers).service is Service.COS


# --- review 8 items 3, 4 and the presigned nit ----------------------------------------------------------------
@pytest.mark.parametrize("method", ["GET", "HEAD", "DELETE", "PUT"])
@pytest.mark.parametrize("key", ["asrhotvocabtable/readme.txt", "asrhotvocabtable/table1", "asrhotvocabtable/a b"])
def test_objects_under_asrhotvocabtable_stay_objects(method: str, key: str) -> None:
    assert resolve(method, "/" + key).service is Service.COS


@pytest.mark.parametrize(
    ("method", "path", "query"),
    [
        ("POST", "/jobs", {"append": "", "position": "0"}),
        ("POST", "/snapshot", {"append": "", "position": "0"}),
        ("POST", "/template", {"restore": ""}),
        ("POST", "/jobs", {"select": "", "select-type": "2"}),
        ("PUT", f"/workflow/{WORKFLOW_ID}", {"tagging": ""}),
        ("PUT", f"/workflow/{WORKFLOW_ID}", {"acl": ""}),
        ("DELETE", f"/workflow/{WORKFLOW_ID}", {"versionId": "v1"}),
        ("POST", "/mediabucket", {"uploads": ""}),
    ],
)
def test_cos_sub_resources_on_reserved_names_stay_cos(method: str, path: str, query: dict[str, str]) -> None:
    assert resolve(method, path, query).service is Service.COS


def test_every_cos_sub_resource_the_app_knows_keeps_a_request_off_reserved_paths() -> None:
    from cosflow.api.app import SIGNED_SELECTORS, SUBRESOURCES, UNSUPPORTED
    from cosflow.api.ci_routes import OBJECT_SUBRESOURCES

    assert {*SUBRESOURCES, *UNSUPPORTED, *SIGNED_SELECTORS} <= OBJECT_SUBRESOURCES


@pytest.mark.parametrize("key", ["playKey", "mediabucket", "dataset", "picbucket"])
def test_presigned_requests_on_the_bare_host_are_links_not_bucket_less_ci(key: str) -> None:
    link = {"q-sign-algorithm": "sha1", "q-ak": "AKID", "q-signature": "0" * 40}
    target = router.resolve("127.0.0.1:8080", "GET", f"/{key}", link)
    assert (target.service, target.style, target.bucket, target.key) == (Service.COS, Style.PATH, key, None)
    assert router.resolve("127.0.0.1:8080", "GET", f"/{key}", {"regions": "", "pageNumber": ""}).service is Service.CI


# --- review 8 item 2: the index answers as a scan of the whole table would, looking at few rows ---------------
def _scan(method: str, path: str, query: dict[str, str], headers: dict[str, str], host: object) -> object:
    """The reference: every row of the table in order (what routing did before the index)."""
    from cosflow.api import ci_routes
    from cosflow.api.routing import CI_ROUTES

    names = frozenset(k.lower() for k in query)
    value = next((v.lower() for k, v in query.items() if k.lower() == "ci-process"), None)
    xml = ci_routes._is_xml(headers) if method in ci_routes.WRITES else False
    header_names = {k.lower() for k in headers}
    for route in CI_ROUTES:
        if route.lower.process is not None and (value is None or route.lower.process not in ("*", value)):
            continue
        if route.lower.header is not None and route.lower.header not in header_names:
            continue
        if ci_routes._matches(route, method, path, names, host, xml):  # type: ignore[arg-type]
            return route
    return None


def _requests() -> list[tuple[str, str, dict[str, str], dict[str, str]]]:
    """Every request this module routes, plus each CI row's own wire form on a few paths."""
    from cosflow.api.routing import CI_ROUTES

    cases: list[tuple[str, str, dict[str, str], dict[str, str]]] = []
    for mark in (
        test_sdk_ci_shapes_on_the_object_host_are_ci,
        test_object_requests_without_a_ci_shape_stay_cos,
        test_writes_with_a_badly_shaped_id_and_a_ci_sign_are_ci,
        test_look_alike_writes_without_a_ci_sign_stay_cos,
    ):
        for params in mark.pytestmark[0].args[1]:  # type: ignore[attr-defined]
            cases.append((params[0], params[1], params[2], params[3]))
    for route in CI_ROUTES:
        method = "PUT" if route.method == "*" else route.method
        path = route.template.replace("[<key>]", "a.png").replace("<key>", "a.png")
        for placeholder, value in [("<WorkflowId>", WORKFLOW_ID), ("<RunId>", RUN_ID), ("<JobIds>", JOB_ID)]:
            path = path.replace(placeholder, value)
        query = {n: "" for n in (*route.query, *route.shape[:1], *route.verbs[:1])}
        if route.process:
            query["ci-process"] = "x" if route.process == "*" else route.process
        cases.append((method, path, query, {route.header: "{}"} if route.header else {}))
    return cases


def test_the_index_answers_as_a_scan_of_the_whole_table() -> None:
    from cosflow.api.ci_routes import Host

    cases = _requests()
    assert len(cases) > 250
    for method, path, query, headers in cases:
        for host in Host:
            expected = _scan(method, path, query, headers, host)
            assert match_ci(method, path, query, headers, host=host) is expected, (method, path, query, host)


def test_a_plain_object_request_tries_no_row(monkeypatch: pytest.MonkeyPatch) -> None:
    from cosflow.api import ci_routes

    tried: list[str] = []
    real = ci_routes._matches

    def counting(route: ci_routes.CiRoute, *args: object) -> bool:
        tried.append(route.name)
        return real(route, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(ci_routes, "_matches", counting)
    headers = {"Host": COS_HOST, "Content-Type": "video/mp4", "Authorization": "q-sign-algorithm=sha1"}
    for path in ("/a.mp4", "/dir/a.mp4", "/in/v.mp4"):
        for method in ("GET", "PUT", "HEAD", "DELETE"):
            router.resolve(COS_HOST, method, path, {}, headers)
            router.resolve("127.0.0.1:8080", method, "/b-1250000000" + path, {}, headers)
    assert tried == []
    router.resolve(COS_HOST, "GET", "/video/a.mp4", {}, headers)  # "video" starts CI rows: only GET ones
    assert tried == ["get_video_auditing"]
    tried.clear()
    router.resolve(COS_HOST, "GET", "/in/pic.png", {"imageMogr2/thumbnail/64x": ""}, headers)
    assert tried == ["image_processing"]
