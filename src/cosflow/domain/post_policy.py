"""The POST Object (browser form upload) policy document (spec §2.5).

COS's rule (POST Object, section "签名保护" / "Signature protection",
https://cloud.tencent.com/document/product/436/14690): a policy must state the ``q-sign-algorithm``,
``q-ak`` and ``q-sign-time`` conditions; every other condition is optional; a field a condition
names (other than ``bucket``) must be in the form and meet it. Fields no condition names are
accepted: COS only "strongly recommends" naming them all, and its own examples and SDK demos send
an unnamed ``key`` (doc case 1, cos-java-sdk-v5 ``PostObjectDemo``) or ``success_action_redirect``
(cos-js-sdk-v5 ``demo/policy-form.html``).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cosflow.domain.numbers import plain_uint
from cosflow.errors import AccessDenied, InvalidPolicyDocument

#: Conditions every policy must state (the doc's table marks them 是否必选: 是).
REQUIRED = ("q-sign-algorithm", "q-ak", "q-sign-time")
#: Names a condition may state without the form carrying them: the bucket comes from the request.
_FROM_REQUEST = {"bucket"}


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


def _name(name: Any) -> str:
    return str(name).lstrip("$").lower()


def _field(fields: Mapping[str, str], name: str) -> str:
    """The form's value for a condition's field; a field the condition names must be sent."""
    lowered = _name(name)
    if lowered not in fields and lowered not in _FROM_REQUEST:
        raise AccessDenied(f"policy condition failed: the form has no {lowered!r} field, which the policy names")
    return fields.get(lowered, "")


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


def _stated(policy: Policy) -> set[str]:
    """The field names the policy's conditions name (content-length-range names none)."""
    names: set[str] = set()
    for condition in policy.conditions:
        if isinstance(condition, dict):
            names |= {_name(k) for k in condition}
        elif (
            isinstance(condition, list) and len(condition) == 3 and str(condition[0]).lower() != "content-length-range"
        ):
            names.add(_name(condition[1]))
    return names


def length_range(policy: Policy) -> tuple[int, int] | None:
    """The ``content-length-range`` the policy allows, if it sets one."""
    for condition in policy.conditions:
        if isinstance(condition, list) and len(condition) == 3 and str(condition[0]).lower() == "content-length-range":
            return _range(condition)
    return None


def _range(condition: list[Any]) -> tuple[int, int]:
    low, high = _bound(condition[1]), _bound(condition[2])
    if low is None or high is None:
        raise InvalidPolicyDocument("content-length-range needs two integers (non-negative, at most 18 digits)")
    return low, high


def _bound(value: Any) -> int | None:
    """A JSON number or a string of digits, through the one bounded parser (``domain.numbers``);
    ``None`` for anything else (floats, booleans, signs, numbers past 18 digits)."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    return plain_uint(value) if isinstance(value, str) else None


def check(policy: Policy, fields: Mapping[str, str], size: int | None, now: datetime) -> None:
    """Raise unless the policy is current, states the conditions COS requires and every condition
    holds (the module docstring gives COS's rule and its source).

    ``fields`` are the lower-cased form fields plus ``bucket`` (the request's) and ``q-sign-time``
    (``q-key-time`` when the form sends no ``q-sign-time``); ``size=None`` skips the length range
    (checked while the file streams, see :func:`length_range`).

    Raises ``AccessDenied`` (expired; a condition not met or naming a field the form lacks) or
    ``InvalidPolicyDocument`` (a required condition missing; a condition of an unknown shape)."""
    if now >= policy.expiration:
        raise AccessDenied("the policy has expired")
    missing = [name for name in REQUIRED if name not in _stated(policy)]
    if missing:
        raise InvalidPolicyDocument(f"the policy must state a condition on {', '.join(missing)}")
    for condition in policy.conditions:
        _check_one(condition, fields, size)
