"""What a CI operation row is and how a request is matched against the rows of ``ci_table``.

Kinds of rows (design.md "Routing"; docs/design-choices.md "Routing" has the exact rule):

- ``PATH``: a reserved path (``/jobs``, ``/workflow/<WorkflowId>``, ``/playKey``...). On an object
  host (``.cos.``, ``.pic.``, path style) it matches only with the id shape and, where the row has
  one, one of the query names the SDK always sends (``shape``), so objects named ``jobs/a.mp4`` or
  ``workflow`` stay objects. On a ``.ci.`` host and bucket-less, ``shape`` is not needed.
- ``BUCKET``: a sub-resource of the bucket root (``PUT /?style``, ``GET /?guetzli``).
- ``PROCESS``: ``?ci-process=<value>`` on an object or the bucket root, any method.
- ``QUERY``: a processing query on an object (``?imageInfo``, ``?imageMogr2/...``, pipelines with
  ``|``, ``?image_process``), any method.
- ``HEADER``: the ``Pic-Operations`` header on any object request (upload-time processing: PUT,
  Complete Multipart Upload, and whatever else carries it: a GET or DELETE with it answers 501 too).

A write (PUT/POST/DELETE) to a reserved path ending in an id also matches with a badly shaped id
when the request carries another CI sign; ``ci.dispatch`` answers it 400 naming the id, so it never
becomes an object write or delete (docs/design-choices.md "Routing" has the rule).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from starlette.datastructures import Headers


class Kind(StrEnum):
    PATH = "reserved path"
    BUCKET = "bucket sub-resource"
    PROCESS = "ci-process"
    QUERY = "processing query"
    HEADER = "header"


class Host(StrEnum):
    """Where a request arrived: an object host (``.cos.``/``.pic.``/path style), a ``.ci.`` host,
    or with no bucket at all (``ci.<region>.<domain>``, or a bare-host path whose first segment is
    a bucket-less CI resource)."""

    OBJECT = "object"
    CI = "ci"
    SERVICE = "service"


_HEX32 = "[0-9a-f]{32}"
#: Path placeholders and the shapes they match. CI ids are a letter prefix and 32 hex digits.
PLACEHOLDERS: dict[str, str] = {
    "[<key>]": ".*",  # an object key, or nothing (the bucket root)
    "<WorkflowId>": f"w{_HEX32}",
    "<RunId>": f"i{_HEX32}",
    "<JobId>": f"j{_HEX32}",
    "<JobIds>": f"j{_HEX32}(?:,j{_HEX32})*",
    "<QueueId>": f"p{_HEX32}",
    "<TemplateId>": "t[0-9a-z]{6,40}",
    # Jobs of the other CI families: auditing (si/av/sa/st/sd/sw...), doc, file, asr, inventory.
    "<Id>": f"[a-z]{{0,3}}{_HEX32}",
    "<Ids>": f"[a-z]{{0,3}}{_HEX32}(?:,[a-z]{{0,3}}{_HEX32})*",
    # An ASR hot-vocabulary table id (32 hex digits; the SDK demos show '08417b95c91xxxx...').
    "<TableId>": _HEX32,
    # Names a user chooses (BizType, text library id, poster template id).
    "<Name>": "[0-9A-Za-z_.-]{1,128}",
    "<key>": ".+",
}
#: The ids a write puts last in its path, and their shape in words for the 400 a badly shaped one gets.
ID_SHAPES: dict[str, str] = {
    "<WorkflowId>": "w and 32 hex digits",
    "<RunId>": "i and 32 hex digits",
    "<JobId>": "j and 32 hex digits",
    "<QueueId>": "p and 32 hex digits",
    "<TemplateId>": "t and 6 to 40 lower-case letters or digits",
    "<Id>": "up to three letters and 32 hex digits",
    "<TableId>": "32 hex digits",
}
#: A badly shaped id where a write to an object host carries another CI sign (a DELETE or POST, a CI
#: switch in the query): 8 to 64 letters and digits, at least one a digit, as every mistyped or placeholder id
#: ("wd34ca394909xxxxxxxxxxxx4d") is; "README" or "notes.txt" are not.
ID_LIKE = "(?=[0-9A-Za-z]*[0-9])[0-9A-Za-z]{8,64}"
#: A badly shaped id in a write whose body is XML (``Content-Type: application/xml``): one segment
#: with no dot.
XML_SEGMENT = "[^/.]+"
#: Query names that only CI writes carry (CancelMediaJob ``?cancel``, UpdateMediaWorkflow ``?active``).
CI_SWITCHES = frozenset({"cancel", "active", "paused"})
XML_TYPES = ("application/xml", "text/xml")
#: COS sub-resources of objects and buckets (api/app.py ``SUBRESOURCES`` and ``UNSUPPORTED``, plus
#: ``partNumber``, ``versionId``, ``position``): a request carrying one is a COS operation, never a
#: reserved-path CI one (``POST /jobs?append&position=0`` appends to the object ``jobs``).
OBJECT_SUBRESOURCES = frozenset(
    {
        "uploads", "uploadid", "partnumber", "delete", "acl", "versionid", "versions", "position", "append",
        "restore", "select", "select-type", "tagging", "cors", "lifecycle", "policy", "versioning", "website",
        "logging", "replication", "inventory", "referer", "encryption", "domain", "origin", "intelligenttiering",
        "intelligent-tiering", "location", "accelerate", "object-lock", "retention", "symlink", "notification",
        "torrent", "domaincertificate", "response-control", "live", "vod", "rename", "decompression",
    }
)  # fmt: skip
WRITES = ("PUT", "POST", "DELETE")


@dataclass(frozen=True)
class CiRoute:
    """One CI operation shape. ``name`` keys the handler table; ``api`` is the operation's name in
    Tencent's documentation and SDKs; :attr:`wire` is what the SDKs send. Names are kept as
    documented and compared case-insensitively."""

    name: str
    api: str
    kind: Kind
    method: str  # "*" for any method
    template: str  # the path with placeholders, as documented
    query: tuple[str, ...] = ()  # query names that must all be present
    shape: tuple[str, ...] = ()  # PATH on an object host: one of these must be present
    process: str | None = None  # the ci-process value; "*" for any
    verbs: tuple[str, ...] = ()  # QUERY: a query name whose first word is one of these
    header: str | None = None
    object_host: bool = True  # False: only on a .ci. host or bucket-less
    service: bool = False  # True: also valid with no bucket
    pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)
    lower: _Lower = field(init=False, repr=False, compare=False)
    #: PATH: the first path segment (``workflow`` for ``/workflow/<WorkflowId>``; ``""`` for ``/``).
    root: str = field(init=False, repr=False, compare=False)
    #: A write whose path ends with an id: that placeholder, and the path with a badly shaped id
    #: (:data:`ID_LIKE`, :data:`XML_SEGMENT`) in its place. None otherwise.
    id_placeholder: str | None = field(init=False, repr=False, compare=False)
    loose: _Loose | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "pattern", _compile(self.template))
        root = self.template.split("/")[1] if self.kind is Kind.PATH else ""
        if "<" in root:
            raise ValueError(f"{self.name}: a reserved path must start with a fixed segment")
        object.__setattr__(self, "root", root)
        last = self.template.rsplit("/", 1)[1]
        loose = None
        if self.kind is Kind.PATH and self.method in WRITES and last in ID_SHAPES:
            head = self.template[: -len(last)]
            loose = _Loose(_compile(head, ID_LIKE), _compile(head, XML_SEGMENT))
        object.__setattr__(self, "id_placeholder", last if loose else None)
        object.__setattr__(self, "loose", loose)
        lower = _Lower(
            frozenset(n.lower() for n in self.query),
            frozenset(n.lower() for n in self.shape),
            frozenset(n.lower() for n in self.verbs),
            self.process.lower() if self.process else None,
            self.header.lower() if self.header else None,
        )
        object.__setattr__(self, "lower", lower)

    @property
    def wire(self) -> str:
        """The request as the SDKs send it, e.g. ``GET /<key>?ci-process=videoinfo``."""
        parts = [f"ci-process={'<any>' if self.process == '*' else self.process}"] if self.process else []
        if self.kind is Kind.BUCKET:
            parts += list(self.query)
        else:
            parts += [n if self.kind is Kind.QUERY else f"{n}=…" for n in self.query]
        parts += [n if n == "cancel" else f"{n}=…" for n in self.shape[:1]]
        if self.verbs:
            parts.append("|".join(self.verbs) + ("/…" if len(self.verbs) > 1 else ""))
        text = f"{'any' if self.method == '*' else self.method} {self.template}"
        text += ("?" + "&".join(parts)) if parts else ""
        return text + (f" + {self.header} header" if self.header else "")

    def describe(self, method: str, query: Mapping[str, str]) -> str:
        """The operation as a user reads it in an error: ``GetImageInfo (GET /<key>?imageInfo)``."""
        if self.process == "*":
            value = next((v for k, v in query.items() if k.lower() == "ci-process"), "")[:64]
            return f"ci-process={value} ({method} /[<key>]?ci-process={value})"
        if self.verbs and len(self.verbs) > 1:
            first = next((k for k in query if _verb(k) in self.lower.verbs), "")[:80]
            return f"{self.api} ({method} /<key>?{first})"
        if self.method == "*":
            return f"{self.api} ({method} {self.wire.split(' ', 1)[1]})"
        return f"{self.api} ({self.wire})"


@dataclass(frozen=True)
class _Lower:
    query: frozenset[str]
    shape: frozenset[str]
    verbs: frozenset[str]
    process: str | None
    header: str | None


@dataclass(frozen=True)
class _Loose:
    id_like: re.Pattern[str]
    xml_segment: re.Pattern[str]


def _compile(template: str, tail: str = "") -> re.Pattern[str]:
    regex = re.escape(template)
    for placeholder, shape in PLACEHOLDERS.items():
        regex = regex.replace(re.escape(placeholder), shape)
    return re.compile(f"^{regex}{tail}$")


def _verb(name: str) -> str:
    """The first word of a processing query name: ``imageMogr2/thumbnail/64x|watermark/...`` → ``imagemogr2``."""
    return name.split("/", 1)[0].split("|", 1)[0].lower()


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """The value of header ``name`` (lower-case), whatever case the mapping keeps names in."""
    if isinstance(headers, Headers):  # Starlette's: case-insensitive already
        return headers.get(name)
    return next((v for k, v in headers.items() if k.lower() == name), None)


def _is_xml(headers: Mapping[str, str] | None) -> bool:
    value = _header(headers, "content-type") if headers is not None else None
    return value is not None and value.split(";", 1)[0].strip().lower() in XML_TYPES


def reserved(
    method: str, template: str, name: str, api: str, *shape: str, object_host: bool = True, service: bool = False
) -> CiRoute:
    """A reserved-path row: ``reserved("GET", "/jobs", "list_jobs", "DescribeMediaJobs", "tag")``;
    ``shape`` lists the query names of which one must be present on an object host."""
    return CiRoute(name, api, Kind.PATH, method, template, shape=shape, object_host=object_host, service=service)


def bucket_sub(method: str, sub: str, name: str, api: str) -> CiRoute:
    """A bucket-root sub-resource row: ``bucket_sub("PUT", "style", ...)`` is ``PUT /?style``."""
    return CiRoute(name, api, Kind.BUCKET, method, "/", query=(sub,))


def ci_process(method: str, value: str, name: str, api: str, *also: str) -> CiRoute:
    """A ``?ci-process=<value>`` row on an object or the bucket root (``"*"``: any method or value);
    ``also`` are query names that must be present too (``action`` for ImageSearch)."""
    return CiRoute(name, api, Kind.PROCESS, method, "/[<key>]", query=also, process=value)


def processing(method: str, verbs: tuple[str, ...], name: str, api: str) -> CiRoute:
    """A processing-query row on an object: a query name whose first word is one of ``verbs``."""
    return CiRoute(name, api, Kind.QUERY, method, "/<key>", verbs=verbs)


def _path_matches(route: CiRoute, method: str, path: str, names: frozenset[str], host: Host, xml: bool) -> bool:
    """A reserved path: the id well shaped, or (a write) badly shaped with a CI sign beside it."""
    if route.pattern.match(path):
        return True
    loose = route.loose
    if loose is None:
        return False
    # A POST to a key with no sub-resource is no object operation (405), so POST is a sign too.
    signed = method in ("DELETE", "POST") or bool(names & CI_SWITCHES)
    if loose.id_like.match(path) and (host is not Host.OBJECT or signed):
        return True
    return method != "DELETE" and xml and bool(loose.xml_segment.match(path))


def _matches(route: CiRoute, method: str, path: str, names: frozenset[str], host: Host, xml: bool) -> bool:
    if route.method not in ("*", method):
        return False
    if (host is Host.OBJECT and not route.object_host) or (host is Host.SERVICE and not route.service):
        return False
    lower = route.lower
    if not lower.query <= names:
        return False
    if route.kind is Kind.PATH:
        if not _path_matches(route, method, path, names, host, xml):
            return False
        if host is Host.OBJECT:
            return not names & OBJECT_SUBRESOURCES and (not lower.shape or bool(lower.shape & names))
        return True
    if not route.pattern.match(path):
        return False
    return not lower.verbs or any(_verb(n) in lower.verbs for n in names)


class RouteIndex:
    """The rows of a CI table, indexed by what a request must carry to match each, so that a request
    is tried only against the few rows it could match: reserved paths by (method, first path
    segment), bucket sub-resources by query name, ``ci-process`` rows by value, processing queries
    by first word, header rows by header name. A plain object request (no query, no CI header, a
    first segment no row starts with) is answered without trying any row."""

    def __init__(self, routes: tuple[CiRoute, ...]) -> None:
        self.routes = routes
        self._paths: dict[tuple[str, str], list[int]] = {}
        self._subs: dict[str, list[int]] = {}
        self._process: dict[str, list[int]] = {}
        self._verbs: dict[str, list[int]] = {}
        self._headers: dict[str, list[int]] = {}
        for i, route in enumerate(routes):
            lower = route.lower
            if route.kind is Kind.PATH:
                self._paths.setdefault((route.method, route.root), []).append(i)
            elif route.kind is Kind.BUCKET:
                for name in lower.query:
                    self._subs.setdefault(name, []).append(i)
            elif route.kind is Kind.PROCESS:
                self._process.setdefault(lower.process or "*", []).append(i)
            elif route.kind is Kind.QUERY:
                for verb in lower.verbs:
                    self._verbs.setdefault(verb, []).append(i)
            elif lower.header is not None:
                self._headers.setdefault(lower.header, []).append(i)

    def match(
        self, method: str, path: str, query: Mapping[str, str], headers: Mapping[str, str] | None, host: Host
    ) -> CiRoute | None:
        """The first row (in table order) that the request matches, or None.

        ``path`` is the path inside the bucket (``/`` for the bucket itself, the whole path when there
        is no bucket); query names and header names compare case-insensitively.
        """
        end = path.find("/", 1)
        found = list(self._paths.get((method, path[1:] if end < 0 else path[1:end]), ()))
        names: frozenset[str] = frozenset()
        if query:
            names = frozenset(k.lower() for k in query)
            for name in names:
                found += self._subs.get(name, ())
                found += self._verbs.get(_verb(name), ())
            if "ci-process" in names:
                value = next(v for k, v in query.items() if k.lower() == "ci-process").lower()
                found += self._process.get(value, ())
                found += self._process.get("*", ())
        if headers is not None:
            for name, rows in self._headers.items():
                if _header(headers, name) is not None:
                    found += rows
        if not found:
            return None
        xml = _is_xml(headers) if method in WRITES else False
        for i in sorted(set(found)):
            if _matches(self.routes[i], method, path, names, host, xml):
                return self.routes[i]
        return None
