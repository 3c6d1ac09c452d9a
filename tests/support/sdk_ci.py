"""The official Python SDK's CI surface, read from the SDK itself, and arguments to call each method.

``ci_methods()`` lists every CI method of ``cos-python-sdk-v5`` by introspection: the ``ci_*``
methods of ``CosS3Client`` plus its media/audit methods not named ``ci_``, and every public method
the AI, MetaInsight and speech client classes add. A method the SDK gains later is listed without
an edit here. ``arguments()`` builds a call from the method's signature: each required parameter
gets a sensible value by its name (:data:`VALUES`); a name not in the table gets a plain string.
"""

from __future__ import annotations

import html
import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from qcloud_cos import CosConfig, CosS3Client
from qcloud_cos.ai_recognition import AIRecognitionClient
from qcloud_cos.cos_exception import CosClientError, CosServiceError
from qcloud_cos.intelligent_speech import IntelligentSpeechClient
from qcloud_cos.meta_insight import MetaInsightClient

from cosflow.api import ci
from cosflow.api.ci_routes import CiRoute
from cosflow.api.routing import Router
from tests.support.media import make_image

#: ``CosS3Client`` CI methods whose names do not start with ``ci_`` (cos_client.py, "CI" section).
COS_CLIENT_CI_EXTRAS = frozenset(
    {"get_media_info", "get_snapshot", "get_pm3u8", "get_object_sensitive_content_recognition"}
)
#: The client classes that exist only for CI; every public method they add is a CI call.
CI_CLIENT_CLASSES: tuple[type[CosS3Client], ...] = (AIRecognitionClient, MetaInsightClient, IntelligentSpeechClient)

PIC_OPERATIONS = '{"is_pic_info":1,"rules":[{"fileid":"cosflow-pic.png","rule":"imageView2/format/png"}]}'


@dataclass(frozen=True)
class SdkMethod:
    group: str  # "CosS3Client" or the CI client class name
    cls: type[CosS3Client]
    name: str

    @property
    def function(self) -> Callable[..., Any]:
        return getattr(self.cls, self.name)  # type: ignore[no-any-return]

    @property
    def id(self) -> str:
        return self.name if self.group == "CosS3Client" else f"{self.group}.{self.name}"


def _own_public(cls: type) -> list[str]:
    return sorted(n for n, f in vars(cls).items() if inspect.isfunction(f) and not n.startswith("_"))


def ci_methods() -> list[SdkMethod]:
    """Every CI method of the installed SDK: CosS3Client's first, then each CI client's own."""
    main = [n for n in _own_public(CosS3Client) if n.startswith("ci_") or n in COS_CLIENT_CI_EXTRAS]
    found = [SdkMethod("CosS3Client", CosS3Client, n) for n in main]
    for cls in CI_CLIENT_CLASSES:
        found += [SdkMethod(cls.__name__, cls, n) for n in _own_public(cls)]
    return found


@dataclass(frozen=True)
class Context:
    """What a call may name: the test bucket, an image and a video in it, a scratch directory."""

    bucket: str
    image_key: str
    video_key: str
    scratch: Path
    local_image: Path

    @classmethod
    def seeded(cls, client: CosS3Client, bucket: str, scratch: Path) -> Context:
        """Create ``bucket`` holding an image (``in/pic.png``) and a video stand-in (``in/v.mp4``)."""
        client.create_bucket(Bucket=bucket)
        image = make_image(scratch / "pic.png", 64, 48)
        client.put_object(Bucket=bucket, Key="in/pic.png", Body=image.read_bytes())
        client.put_object(Bucket=bucket, Key="in/v.mp4", Body=b"a video stand-in")
        return cls(bucket, "in/pic.png", "in/v.mp4", scratch, image)


JOB_ID = "j" + "0123456789abcdef" * 2
QUEUE_ID = "p" + "0123456789abcdef" * 2
WORKFLOW_ID = "w" + "0123456789abcdef" * 2
RUN_ID = "i" + "0123456789abcdef" * 2
TEMPLATE_ID = "t" + "0123456789abcdef" * 2
TABLE_ID = "0123456789abcdef" * 2

#: Values by parameter name (a callable takes the context). Bodies are minimal but well-formed.
VALUES: dict[str, Any] = {
    "Bucket": lambda c: c.bucket,
    "OutputBucket": lambda c: c.bucket,
    "Key": lambda c: c.image_key,
    "ObjectKey": lambda c: c.image_key,
    "InputObject": lambda c: c.video_key,
    "OutputObject": "cosflow-out/result",
    "OutputRegion": "ap-guangzhou",
    "LocalFilePath": lambda c: str(c.local_image),
    "DestImagePath": lambda c: str(c.scratch / "dest.bin"),
    "Body": {"Name": "cosflow-surface"},
    "Request": {"StyleName": "cosflow-surface-style", "StyleBody": "imageMogr2/thumbnail/64x"},
    "Rule": "imageMogr2/thumbnail/64x",
    "CiProcess": "ImageInfo",
    "JobID": JOB_ID,
    "JobId": JOB_ID,
    "JobIDs": JOB_ID,
    "RunId": RUN_ID,
    "QueueId": QUEUE_ID,
    "WorkflowId": WORKFLOW_ID,
    "TemplateId": TEMPLATE_ID,
    "TableId": TABLE_ID,
    "UpdateState": "active",
    "Tag": "Transcode",
    "Template": {"Tag": "Snapshot", "Name": "cosflow-surface", "Snapshot": {"Mode": "Interval", "Count": "1"}},
    "JobBody": {"Tag": "Transcode", "Input": {"Prefix": "in/"}},
    "Input": [{"Object": "cosflow-missing.jpg"}],
    "FileHashCodeConfig": {"Type": "MD5"},
    "FileUncompressConfig": {"Prefix": "out/"},
    "FileCompressConfig": {"Flatten": "0", "Format": "zip", "Prefix": "in/"},
    "Type": "image",
    "DetectType": 1,
    "BizType": "cosflow",
    "Url": "http://127.0.0.1:9/cosflow.html",
    "Time": 1,
    "Expires": 3600,
    "Width": 64,
    "Height": 64,
    "Cover": 0,
    "CompressType": "avif",
    "QrcodeContent": "cosflow",
    "ContentType": 2,
    "Label": "Porn",
    "SuggestedLabel": "Normal",
    "Name": "cosflow-surface",
    "EngineModelType": "16k_zh",
    "ChannelNum": 1,
    "ResTextFormat": 0,
    "CardType": "DriverLicense",
    "InputText": "cosflow",
    "SourceLang": "zh",
    "TargetLang": "en",
    "IdCard": "110000000000000000",
    "LivenessType": "SILENT",
    "DatasetName": "cosflow-dataset",
    "Uri": "cos://cosflow-missing-1250000000/a.jpg",
}
FALLBACK = "cosflow"
#: Optional parameters that give a call the shape it has in real use: an UpdateMediaPlayKey with
#: neither key is a bare ``PUT /playKey``, the same request as uploading an empty object named
#: ``playKey`` (docs/design-choices.md "Routing").
SHAPING: dict[str, Any] = {"MasterPlayKey": "cosflowMasterKey"}


#: Badly shaped ids, one per id parameter: the official demos' placeholders (cos-python-sdk-v5
#: demo/ci_media.py, ci_template.py) and mistypes of real ids (upper case, "x" for digits).
BAD_IDS: dict[str, str] = {
    "WorkflowId": "wd34ca394909xxxxxxxxxxxx4d",
    "QueueId": "p5135bcxxxxxxxxxxxxxxxxf047454",
    "TemplateId": "T1E801DD4A9FCxxxxxxxxxxxxxxx",
    "JobId": "j5f3e43d6400411xxxxxxxxxxxx",
    "JobID": "j5f3e43d6400411xxxxxxxxxxxx",
    "JobIDs": "j5f3e43d6400411xxxxxxxxxxxx",
    "RunId": "i5f17a1fb400411xxxxxxxxxxxx",
    "TableId": "08417b95c91xxxxxxxxxxxxx",
}
#: Parameters that carry a request body: the demos call those methods with ContentType='application/xml'.
BODY_PARAMETERS = frozenset({"Request", "Body", "Template", "JobBody"})


def id_parameters(method: SdkMethod) -> list[str]:
    """The id parameters (:data:`BAD_IDS`) ``method`` takes."""
    return [p for p in inspect.signature(method.function).parameters if p in BAD_IDS]


def bad_id_arguments(method: SdkMethod, ctx: Context) -> dict[str, Any]:
    """:func:`arguments` with every id badly shaped, and the XML Content-Type where a body goes, as
    the official demos pass it."""
    kwargs = arguments(method, ctx)
    kwargs.update({p: BAD_IDS[p] for p in id_parameters(method)})
    if BODY_PARAMETERS & set(inspect.signature(method.function).parameters):
        kwargs["ContentType"] = "application/xml"
    return kwargs


def arguments(method: SdkMethod, ctx: Context) -> dict[str, Any]:
    """Keyword arguments for ``method``: every required parameter, plus ``PicOperations`` for the
    upload methods whose docstring shows it (the header is what makes them CI calls)."""
    kwargs: dict[str, Any] = {}
    for param in inspect.signature(method.function).parameters.values():
        if param.name == "self" or param.kind in (param.VAR_KEYWORD, param.VAR_POSITIONAL):
            continue
        if param.default is not param.empty:
            if param.name in SHAPING:
                kwargs[param.name] = SHAPING[param.name]
            continue
        value = VALUES.get(param.name, FALLBACK)
        kwargs[param.name] = value(ctx) if callable(value) else value
    if "Body" in kwargs and "Key" in kwargs:  # an upload (ci_put_object): the body is the bytes
        kwargs["Body"] = ctx.local_image.read_bytes()
    if "PicOperations" in (inspect.getdoc(method.function) or ""):
        kwargs["PicOperations"] = PIC_OPERATIONS
    return kwargs


@dataclass(frozen=True)
class Exchange:
    """One HTTP request a method sent and what answered it (the body only when it is an error)."""

    method: str
    url: str
    status: int
    server: str  # the Server header: "tencent-ci" or "tencent-cos"
    error_body: str
    headers: dict[str, str]  # the request's headers, Authorization left out

    def field(self, name: str) -> str:
        """An element of the COS/CI ``<Error>`` body ('' when absent)."""
        found = re.search(f"<{name}>(.*?)</{name}>", self.error_body, re.S)
        return html.unescape(found.group(1)) if found else ""


@dataclass(frozen=True)
class Outcome:
    method: SdkMethod
    kwargs: dict[str, Any]
    exchanges: tuple[Exchange, ...]
    error: Exception | None

    @property
    def answer(self) -> Exchange | None:
        return self.exchanges[-1] if self.exchanges else None

    @property
    def kind(self) -> str:
        """``works``; ``clear error`` (the server refused: the SDK raised it, or handed it back as data
        as the ``cos_request=False`` methods do); ``SDK refused`` (the SDK raised before sending);
        ``unreadable`` (the SDK could not read a success)."""
        if self.answer is None:
            return "SDK refused" if self.error is not None else "works"
        if self.answer.status >= 400:
            return "clear error"
        return "works" if self.error is None else "unreadable"


def call(method: SdkMethod, config: CosConfig, ctx: Context, kwargs: dict[str, Any] | None = None) -> Outcome:
    """Call ``method`` with ``kwargs`` (default :func:`arguments`) on a fresh client, recording
    every HTTP exchange.

    The client's own ``requests`` session is wrapped, not replaced: requests go to the server as
    the SDK sends them, and the wrapper only notes what went and what came back.
    """
    client = method.cls(config, retry=0)
    session = client._session
    sent: list[Exchange] = []
    original = session.send

    def recording_send(request: Any, **kw: Any) -> Any:
        response = original(request, **kw)
        body = response.content[:4096].decode("utf-8", "replace") if response.status_code >= 400 else ""
        headers = {k: _text(v) for k, v in request.headers.items() if k.lower() != "authorization"}
        server = response.headers.get("Server", "")
        sent.append(Exchange(request.method, request.url, response.status_code, server, body, headers))
        return response

    session.send = recording_send  # type: ignore[method-assign]
    kwargs = arguments(method, ctx) if kwargs is None else kwargs
    error: Exception | None = None
    try:
        getattr(client, method.name)(**kwargs)
    except (CosServiceError, CosClientError) as exc:
        error = exc
    return Outcome(method, kwargs, tuple(sent), error)


def _text(value: str | bytes) -> str:
    """A header value as text (the SDK passes some, such as Host, as bytes)."""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


ROUTER = Router(("myqcloud.com",))


def routed(outcome: Outcome) -> CiRoute | None:
    """The CI row the method's (last) request matched, resolved as the server resolves it."""
    if outcome.answer is None:
        return None
    sent = outcome.answer
    url = urlsplit(sent.url)
    query = dict(parse_qsl(url.query, keep_blank_values=True))
    host = sent.headers.get("Host", url.netloc)
    return ROUTER.resolve(host, sent.method, url.path, query, sent.headers).ci


WORKS = "works"
HANDLED_4XX = "implemented, 4xx for made-up input"
NOT_IMPLEMENTED = "not implemented (501)"
SDK_REFUSED = "SDK refused"
#: A read with a badly shaped id, which is the read of the object its path names (and none exists).
OBJECT_READ = "object read, 404 NoSuchKey"
#: Categories a method must never fall in: answered 4xx or 5xx by no handler of the CI side, or
#: a success the SDK could not read.
OTHER = "other answer"
UNREADABLE = "unreadable"


def category(outcome: Outcome) -> str:
    """Where a call landed: :data:`WORKS`; :data:`HANDLED_4XX` (cosflow has a handler for the
    operation and it refused the made-up input); :data:`NOT_IMPLEMENTED`; :data:`SDK_REFUSED`
    (nothing sent); :data:`OBJECT_READ` (the object API answered a read: right only for a read with
    a badly shaped id); :data:`UNREADABLE` or :data:`OTHER` (defects)."""
    kind = outcome.kind
    if kind in ("works", "SDK refused", "unreadable"):
        return {"works": WORKS, "SDK refused": SDK_REFUSED, "unreadable": UNREADABLE}[kind]
    answer = outcome.answer
    assert answer is not None
    if answer.server == "tencent-cos" and answer.method in ("GET", "HEAD"):
        return OBJECT_READ if (answer.status, answer.field("Code")) == (404, "NoSuchKey") else OTHER
    route = routed(outcome)
    if answer.status == 501 and answer.field("Code") == "NotImplemented" and route is not None:
        return NOT_IMPLEMENTED if route.name not in ci.HANDLERS else OTHER
    if 400 <= answer.status < 500 and route is not None and route.name in ci.HANDLERS:
        return HANDLED_4XX
    return OTHER
