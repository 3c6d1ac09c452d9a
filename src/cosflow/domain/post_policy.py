"""The POST Object (browser form upload) policy document (spec §2.5)."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cosflow.errors import AccessDenied, InvalidPolicyDocument

#: Form fields that need no policy condition (the signature parts and the file itself).
_EXEMPT = {"policy", "q-signature", "file", "x-cos-security-token", "q-key-time", "q-sign-time"}


@dataclass(frozen=True)
class Policy:
    raw: bytes
    expiration: datetime
    conditions: tuple[Any, ...]


def decode(encoded: str) -> Policy:
    try:
        raw = base64.b64decode(encoded, validate=True)
        document = json.loads(raw)
        expiration = datetime.fromisoformat(document["expiration"].replace("Z", "+00:00"))
        conditions = tuple(document.get("conditions", ()))
    except (binascii.Error, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InvalidPolicyDocument("the policy is not base64 JSON with expiration and conditions") from exc
    if expiration.tzinfo is None:
        expiration = expiration.replace(tzinfo=UTC)
    return Policy(raw, expiration, conditions)


def _field(fields: Mapping[str, str], name: str) -> str:
    return fields.get(name.lstrip("$").lower(), "")


def _check_one(condition: Any, fields: Mapping[str, str], size: int | None) -> None:
    if isinstance(condition, dict):
        for name, expected in condition.items():
            if _field(fields, name) != str(expected):
                raise AccessDenied(f"policy condition failed: {name} must equal {expected!r}")
        return
    if not isinstance(condition, list) or len(condition) != 3:
        raise InvalidPolicyDocument(f"unsupported policy condition {condition!r}")
    op, name, value = (str(condition[0]).lower(), condition[1], condition[2])
    if op == "content-length-range":
        low, high = _range(condition)
        if size is not None and not low <= size <= high:
            raise AccessDenied(f"policy condition failed: content length {size} outside [{low}, {high}]")
    elif op == "eq":
        if _field(fields, str(name)) != str(value):
            raise AccessDenied(f"policy condition failed: {name} must equal {value!r}")
    elif op == "starts-with":
        if not _field(fields, str(name)).startswith(str(value)):
            raise AccessDenied(f"policy condition failed: {name} must start with {value!r}")
    else:
        raise InvalidPolicyDocument(f"unsupported policy operator {op!r}")


def _covered(policy: Policy) -> set[str]:
    names: set[str] = set()
    for condition in policy.conditions:
        if isinstance(condition, dict):
            names |= {str(k).lstrip("$").lower() for k in condition}
        elif (
            isinstance(condition, list) and len(condition) == 3 and str(condition[0]).lower() != "content-length-range"
        ):
            names.add(str(condition[1]).lstrip("$").lower())
    return names


def length_range(policy: Policy) -> tuple[int, int] | None:
    """The ``content-length-range`` the policy allows, if it sets one."""
    for condition in policy.conditions:
        if isinstance(condition, list) and len(condition) == 3 and str(condition[0]).lower() == "content-length-range":
            return _range(condition)
    return None


def _range(condition: list[Any]) -> tuple[int, int]:
    try:
        return int(condition[1]), int(condition[2])
    except (TypeError, ValueError) as exc:  # ValueError also for numbers past 4,300 digits
        raise InvalidPolicyDocument("content-length-range needs two integers") from exc


def check(policy: Policy, fields: Mapping[str, str], size: int | None, now: datetime, sent: Iterable[str] = ()) -> None:
    """Raise unless every condition holds and every field ``sent`` in the form is covered by one
    (as S3 requires: otherwise a signed policy would accept any redirect, type or metadata).
    ``fields`` are lower-cased form fields plus ``bucket``; ``size=None`` skips the length range
    (checked while the file streams, see :func:`length_range`)."""
    if now >= policy.expiration:
        raise AccessDenied("the policy has expired")
    for condition in policy.conditions:
        _check_one(condition, fields, size)
    covered = _covered(policy)
    for name in sent:
        lowered = name.lower()
        if lowered not in _EXEMPT and not lowered.startswith("x-ignore-") and lowered not in covered:
            raise AccessDenied(f"the form field {name!r} is not covered by a policy condition")
