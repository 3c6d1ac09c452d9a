"""Why a file could not be read or written, in words: PyAV's ``FFmpegError`` (whose ``errno`` is an
AVERROR such as 1094995529, ``AVERROR_INVALIDDATA``), Pillow's errors and plain ``OSError``s all
carry a path and a number; :func:`reason` keeps neither."""

from __future__ import annotations

import av
from PIL import Image, UnidentifiedImageError

from cosflow.domain.failures import os_words

INVALID = "the data is invalid or truncated"

_AV: tuple[tuple[type[BaseException], str], ...] = (
    (av.error.InvalidDataError, INVALID),
    (av.error.EOFError, "the data ends too early"),
    (av.error.DemuxerNotFoundError, "its container format is not supported"),
    (av.error.DecoderNotFoundError, "its codec is not supported"),
    (av.error.PatchWelcomeError, "it uses a feature FFmpeg does not support"),
    (av.error.MemoryError, "the server ran out of memory"),
)


def reason(exc: BaseException) -> str:
    """Words for ``exc`` without any path or error number (the server log keeps the detail)."""
    for kind, words in _AV:
        if isinstance(exc, kind):
            return words
    if isinstance(exc, Image.DecompressionBombError):
        return "the image has too many pixels"
    if isinstance(exc, UnidentifiedImageError):
        return "it is not in an image format that can be read"
    if isinstance(exc, av.error.FFmpegError):
        return _plain(exc.strerror) or INVALID
    if isinstance(exc, OSError) and exc.errno is not None:
        return os_words(exc.errno)
    if isinstance(exc, OSError):  # Pillow: "image file is truncated (63 bytes not processed)" and the like
        return "the data is truncated" if "truncated" in str(exc) else INVALID
    return INVALID


def writing(exc: BaseException) -> str:
    """Words for a failed write: an errno's meaning, else the library's own text (Pillow's "cannot
    write mode RGBA as JPEG" names no file)."""
    if isinstance(exc, OSError) and exc.errno is not None:
        return os_words(exc.errno)
    return str(exc) or type(exc).__name__


def _plain(text: str | None) -> str:
    """An FFmpeg error string as words ("Invalid data found..." -> "invalid data found...")."""
    words = (text or "").strip().rstrip(".")
    return words[:1].lower() + words[1:]
