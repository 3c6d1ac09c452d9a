"""Checks that a refused request was refused for the right reason.

``pytest.raises(CosServiceError)`` alone passes on any error answer, a 500 included, so a test
meant to show that a request is refused (and that nothing was stored) would not notice the server
failing instead. Every refusal names its exact status and code here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from qcloud_cos import CosS3Client
from qcloud_cos.cos_exception import CosServiceError


def refused(status: int, code: str, call: Callable[..., Any], *args: Any, **kwargs: Any) -> CosServiceError:
    """Call ``call(*args, **kwargs)``; it must fail with exactly ``status`` and ``code``."""
    with pytest.raises(CosServiceError) as caught:
        call(*args, **kwargs)
    err = caught.value
    assert (err.get_status_code(), err.get_error_code()) == (status, code), err.get_digest_msg()
    return err


def assert_absent(client: CosS3Client, bucket: str, key: str) -> None:
    """Nothing is stored under ``key``: HEAD answers 404 (the SDK names a HEAD 404 NoSuchResource,
    as a HEAD answer has no body to carry a code)."""
    refused(404, "NoSuchResource", client.head_object, Bucket=bucket, Key=key)
