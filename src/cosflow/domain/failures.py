"""Failure text a user reads (a task's ``Message``, a callback attempt's error): the object and
the reason in words, never a server path, a scratch file name or a raw errno number.

The raw text stays in the server log; :func:`scrub` is applied where an exception becomes a
``Code``/``Message`` (issue 8 §3.8), and :func:`os_words` says what an errno means.
"""

from __future__ import annotations

import errno
import os
import re
from collections.abc import Iterable, Mapping

#: The errors that mean "the disk (or the quota) is full": the one set every layer checks.
DISK_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})

#: What is left where a server file was named that maps to nothing the user knows.
SCRATCH_FILE = "a temporary file"
SERVER_FILE = "a server file"

_WORDS = {
    errno.ENOSPC: "the server is out of disk space",
    errno.EDQUOT: "the server's disk quota is used up",
    errno.EACCES: "the server is not allowed to use its own files (check the data dir's permissions)",
    errno.EPERM: "the server is not allowed to use its own files (check the data dir's permissions)",
    errno.EROFS: "the server's disk is read-only",
    errno.ENOENT: "a file the server needed is missing",
    errno.EIO: "a disk read or write failed",
    errno.EMFILE: "the server has too many files open",
    errno.ENFILE: "the server has too many files open",
    errno.ENOMEM: "the server ran out of memory",
    errno.EFBIG: "a file grew too large for the server's disk",
}

#: ``[Errno 28]``, ``errno 28``, ``errno=-22``, ``error code: -22``: numbers mean nothing to a user.
_ERRNO = r"\[Errno\s*-?\d+\]\s*|(?i:\berr(?:no|or\s+code)\b)\s*[:=]?\s*-?\d+\s*"
#: Characters of a path after its known root (stops at quotes, spaces, ``:``, ``,`` and brackets).
_TAIL = r"[^\s'\"`,;:|()\[\]<>]*"
#: Any other absolute path with at least one directory (not the path of a URL: no ``:`` or host before).
_ABSOLUTE = r"(?<![\w/.:@-])/[\w.+@-]+(?:/[\w.+@-]*)+|\b[A-Za-z]:\\[^\s'\"]*"


def os_words(number: int | None) -> str:
    """What an errno means, in words (``ENOSPC`` -> "the server is out of disk space")."""
    if number is None:
        return "a file operation failed"
    return _WORDS.get(number) or os.strerror(number).lower()


def disk_full(exc: BaseException | None) -> bool:
    """Whether ``exc``, or an exception it was raised from (``__cause__``/``__context__``), is an
    ``OSError`` saying the disk or the quota is full (:data:`DISK_FULL`)."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno in DISK_FULL:
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def scrub(text: str, names: Mapping[str, str], roots: Iterable[str]) -> str:
    """``text`` with each path in ``names`` replaced by its name (an input's scratch copy by its
    object key), any other path under one of ``roots`` (the data dir, however spelt) by
    :data:`SCRATCH_FILE`, any other absolute path by :data:`SERVER_FILE`, and errno numbers
    dropped. One pass: a name put in is never scrubbed again (a key may look like a path)."""
    known = sorted((p for p in names if p), key=len, reverse=True)
    under = sorted({r.rstrip("/") for r in roots if r.rstrip("/")}, key=len, reverse=True)
    parts = [f"(?P<known>{'|'.join(map(re.escape, known))})"] if known else []
    if under:
        parts.append(rf"(?P<root>(?<![\w/.-])(?:{'|'.join(map(re.escape, under))})/{_TAIL})")
    parts += [f"(?P<absolute>{_ABSOLUTE})", f"(?P<errno>{_ERRNO})"]

    def replace(match: re.Match[str]) -> str:
        if match.group("known") if known else None:
            return names[match.group("known")]
        if under and match.group("root"):
            return SCRATCH_FILE
        if match.group("absolute"):
            return SERVER_FILE
        return ""

    return re.sub("|".join(parts), replace, text).strip()
