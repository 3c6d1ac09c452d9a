"""Identifiers in the shapes the real service uses (spec §0)."""

from __future__ import annotations

import base64
import os
import time
import uuid


def request_id() -> str:
    """base64 of ``<hex unix ts>_<hex host part>_<hex random>_<n>`` like COS's request ids."""
    raw = f"{int(time.time()):08x}_{os.getpid() & 0xFFFFFFFF:08x}_{os.urandom(2).hex()}_{os.urandom(3).hex()}"
    return base64.b64encode(raw.encode()).decode()


def upload_id() -> str:
    """Multipart upload ids: opaque, URL-safe, unguessable."""
    return f"{int(time.time())}{uuid.uuid4().hex}"


def blob_id() -> str:
    return uuid.uuid4().hex


def workflow_id() -> str:
    return "w" + uuid.uuid4().hex


def run_id() -> str:
    """``i`` + the 32 hex of a version-1 UUID, as the real service's RunIds are."""
    return "i" + uuid.uuid1().hex


def job_id() -> str:
    return "j" + uuid.uuid1().hex


def queue_id() -> str:
    return "p" + uuid.uuid4().hex


def template_id() -> str:
    """``t`` + 33 hex, the observed template id length."""
    return "t" + uuid.uuid4().hex + os.urandom(1).hex()[0]
