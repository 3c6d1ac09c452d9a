"""Reading a POST Object form as a stream: the text fields first (bounded), then the file part as
an async iterator of chunks. Nothing of the file is read before the caller has checked the fields
(the policy and its signature), and the file is never spooled anywhere but its final blob."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from cosflow.errors import EntityTooLarge, InvalidArgument

MAX_FIELD_BYTES = 64 * 1024
MAX_FIELDS = 200


@dataclass
class _Part:
    headers: dict[str, str] = field(default_factory=dict)
    data: bytearray = field(default_factory=bytearray)


@dataclass
class FormFile:
    filename: str
    content_type: str
    chunks: AsyncIterator[bytes]


class FormStream:
    """``fields()`` reads up to the file part; ``file`` then streams it (it must come last)."""

    def __init__(self, request: Request) -> None:
        content_type, params = parse_options_header(request.headers.get("content-type", ""))
        if content_type != b"multipart/form-data" or b"boundary" not in params:
            raise InvalidArgument("POST Object needs a multipart/form-data body")
        self._body = request.stream()
        self._events: list[tuple[str, Any]] = []
        self._part = _Part()
        self._header = [b"", b""]
        self._parser = MultipartParser(params[b"boundary"], self._callbacks())
        self._done = False

    def _callbacks(self) -> dict[str, Any]:
        def on_part_begin() -> None:
            self._part = _Part()

        def on_header_field(data: bytes, start: int, end: int) -> None:
            self._header[0] += data[start:end]

        def on_header_value(data: bytes, start: int, end: int) -> None:
            self._header[1] += data[start:end]

        def on_header_end() -> None:
            self._part.headers[self._header[0].decode("latin-1").lower()] = self._header[1].decode("latin-1")
            self._header = [b"", b""]

        def on_headers_finished() -> None:
            self._events.append(("headers", self._part))

        def on_part_data(data: bytes, start: int, end: int) -> None:
            self._events.append(("data", bytes(data[start:end])))

        def on_part_end() -> None:
            self._events.append(("end", None))

        return {
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
        }

    async def _next_event(self) -> tuple[str, Any] | None:
        while not self._events:
            if self._done:
                return None
            try:
                chunk = await self._body.__anext__()
            except StopAsyncIteration:
                self._done = True
                self._parser.finalize()
                continue
            try:
                self._parser.write(chunk)
            except Exception as exc:  # python-multipart's parse errors
                raise InvalidArgument(f"the multipart/form-data body is malformed: {exc}") from exc
        return self._events.pop(0)

    async def fields(self) -> tuple[dict[str, str], FormFile]:
        """Every text field before the file part (names lower-cased), and the file part."""
        fields: dict[str, str] = {}
        current: _Part | None = None
        while (event := await self._next_event()) is not None:
            kind, value = event
            if kind == "headers":
                current = value
                disposition = _disposition(current.headers.get("content-disposition", ""))
                if "filename" in disposition or disposition.get("name", "").lower() == "file":
                    file_type = current.headers.get("content-type", "")
                    return fields, FormFile(disposition.get("filename", ""), file_type, self._file_chunks())
            elif kind == "data" and current is not None:
                current.data += value
                if len(current.data) > MAX_FIELD_BYTES:
                    raise EntityTooLarge(f"form fields are at most {MAX_FIELD_BYTES} bytes")
            elif kind == "end" and current is not None:
                name = _disposition(current.headers.get("content-disposition", "")).get("name", "")
                fields[name.lower()] = _text(current.data, f"the form field {name[:64]!r}")
                if len(fields) > MAX_FIELDS:
                    raise InvalidArgument(f"a form has at most {MAX_FIELDS} fields")
                current = None
        raise InvalidArgument("the form has no file field (it must be the last field)", resource="file")

    async def _file_chunks(self) -> AsyncIterator[bytes]:
        while (event := await self._next_event()) is not None:
            kind, value = event
            if kind == "data":
                yield value
            elif kind == "end":
                return
        raise InvalidArgument("the form's file part is not terminated")


def _disposition(header: str) -> dict[str, str]:
    _, params = parse_options_header(header.encode("latin-1"))
    return {k.decode("latin-1").lower(): _text(v, "a Content-Disposition parameter") for k, v in params.items()}


def _text(data: bytes, what: str) -> str:
    """Form text is UTF-8: a key (or a ``${filename}`` that becomes part of one) that is not would
    otherwise be stored under U+FFFD replacements, so that different bytes name one object."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidArgument(f"{what} is not valid UTF-8") from exc
