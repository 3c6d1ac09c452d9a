"""Which uploads start a workflow (spec §5.3, §6.1): the Start node's ObjectPrefix and ExtFilter.

``ObjectPrefix`` is rooted at the bucket: ``/`` is the bucket root, so ``"/"`` (like ``""``) takes
every key and ``"/wk-test"`` takes ``wk-test/game.mp4``. The Python SDK's workflow demo uses ``/``
for the root (cos-python-sdk-v5 ``demo/ci_media.py``) and the Go SDK's test data stores
``/wk-test`` (cos-go-sdk-v5 ``ci_media_test.go``). A prefix without the leading ``/`` is compared
with the key as it is, as COS list prefixes are.
"""

from __future__ import annotations

from cosflow.domain.topology import StartInput


def rooted(prefix: str) -> str:
    """The prefix as compared with object keys: one leading ``/`` (the bucket root) removed.

    ``"/"`` and ``""`` -> ``""`` (every key); ``"/in/"`` -> ``"in/"``; ``"in/"`` -> ``"in/"``.
    Keys and the prefix are compared as the client wrote them (case and spaces kept).
    """
    return prefix[1:] if prefix.startswith("/") else prefix


def prefix_matches(prefix: str, key: str) -> bool:
    """True when ``key`` lies under ``prefix`` (a string prefix, as in COS listings: ``"/wk-test"``
    takes ``wk-test/game.mp4`` and ``wk-testing.mp4`` alike; end it with ``/`` for a folder)."""
    return key.startswith(rooted(prefix))


def starts_run(start: StartInput, key: str, content_type: str) -> bool:
    """Does an upload of ``key`` start a run of the workflow whose Start input is ``start``?"""
    return prefix_matches(start.object_prefix, key) and start.ext_filter.matches(key, content_type)
