"""POST Object policy documents (``domain.post_policy``): decoding and condition checks."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from cosflow.domain import post_policy
from cosflow.errors import AccessDenied, InvalidPolicyDocument

NOW = datetime(2024, 5, 8, 12, 0, 0, tzinfo=UTC)
BUCKET = "b-1250000000"


def encode(document: Any) -> str:
    return base64.b64encode(json.dumps(document).encode()).decode()


KEY_TIME = "1715169600;1715173200"
#: The conditions COS requires in every policy (POST Object doc, 签名保护).
SIGNED = ({"q-sign-algorithm": "sha1"}, {"q-ak": "AKIDxxx"}, {"q-sign-time": KEY_TIME})


def policy(*conditions: Any, expiration: str = "2024-05-08T13:00:00.000Z") -> post_policy.Policy:
    """A policy with COS's three required conditions and ``conditions``."""
    return bare_policy(*SIGNED, *conditions, expiration=expiration)


def bare_policy(*conditions: Any, expiration: str = "2024-05-08T13:00:00.000Z") -> post_policy.Policy:
    return post_policy.decode(encode({"expiration": expiration, "conditions": list(conditions)}))


def form(**extra: str) -> dict[str, str]:
    fields = {
        "key": "uploads/photo.jpg",
        "bucket": BUCKET,
        "content-type": "image/jpeg",
        "q-sign-algorithm": "sha1",
        "q-ak": "AKIDxxx",
        "q-sign-time": KEY_TIME,
        "success_action_status": "201",
    }
    fields.update(extra)
    return fields


# --- decode -------------------------------------------------------------------------------------------
def test_decode_keeps_the_raw_json_and_parses_expiration() -> None:
    text = '{"expiration": "2024-05-08T13:00:00Z", "conditions": [{"bucket": "b-1250000000"}]}'
    decoded = post_policy.decode(base64.b64encode(text.encode()).decode())
    assert decoded.raw == text.encode()
    assert decoded.expiration == datetime(2024, 5, 8, 13, 0, tzinfo=UTC)
    assert decoded.conditions == ({"bucket": BUCKET},)


def test_decode_accepts_an_offset_and_treats_a_naive_time_as_utc() -> None:
    with_offset = policy(expiration="2024-05-08T21:00:00+08:00")
    assert with_offset.expiration == datetime(2024, 5, 8, 13, 0, tzinfo=UTC)
    assert with_offset.expiration.utcoffset() == timedelta(hours=8)
    naive = policy(expiration="2024-05-08T13:00:00")
    assert naive.expiration == datetime(2024, 5, 8, 13, 0, tzinfo=UTC)
    assert naive.expiration.tzinfo is not None


def test_decode_without_conditions() -> None:
    assert post_policy.decode(encode({"expiration": "2024-05-08T13:00:00Z"})).conditions == ()


@pytest.mark.parametrize(
    "encoded",
    [
        "not base64!",
        base64.b64encode(b"not json").decode(),
        encode({"conditions": []}),  # no expiration
        encode({"expiration": "tomorrow", "conditions": []}),
        encode({"expiration": 12345, "conditions": []}),
        encode(["expiration"]),
        "",
    ],
)
def test_decode_rejects_bad_documents(encoded: str) -> None:
    with pytest.raises(InvalidPolicyDocument):
        post_policy.decode(encoded)


# --- check ---------------------------------------------------------------------------------------------
def test_all_supported_conditions_passing() -> None:
    doc = policy(
        {"bucket": BUCKET},
        {"q-sign-algorithm": "sha1"},
        ["starts-with", "$key", "uploads/"],
        ["eq", "$success_action_status", "201"],
        ["starts-with", "$Content-Type", "image/"],
        ["content-length-range", 1, 1024],
    )
    post_policy.check(doc, form(), 1024, NOW)
    post_policy.check(doc, form(), 1, NOW)


def test_a_policy_with_only_the_required_conditions_accepts_any_other_field() -> None:
    """COS's own case 1 and the Java SDK demo: ``key`` (and anything else) named by no condition."""
    post_policy.check(policy(), form(), 10, NOW)
    post_policy.check(policy(), form(success_action_redirect="https://example.test/", acl="private"), 10, NOW)


@pytest.mark.parametrize("missing", ["q-sign-algorithm", "q-ak", "q-sign-time"])
def test_each_required_condition_must_be_stated(missing: str) -> None:
    stated = [c for c in SIGNED if missing not in c]
    with pytest.raises(InvalidPolicyDocument, match=missing):
        post_policy.check(bare_policy(*stated, {"bucket": BUCKET}), form(), 10, NOW)
    with pytest.raises(InvalidPolicyDocument):
        post_policy.check(bare_policy(), form(), 10, NOW)


@pytest.mark.parametrize("field", ["q-sign-algorithm", "q-ak", "q-sign-time"])
def test_required_conditions_must_match_the_form(field: str) -> None:
    with pytest.raises(AccessDenied, match=field):
        post_policy.check(policy(), form(**{field: "other"}), 10, NOW)


def test_the_required_conditions_can_be_written_as_eq() -> None:
    doc = bare_policy(["eq", "$q-sign-algorithm", "sha1"], ["eq", "$q-ak", "AKIDxxx"], ["eq", "$q-sign-time", KEY_TIME])
    post_policy.check(doc, form(), 10, NOW)


def test_expired_policy() -> None:
    with pytest.raises(AccessDenied, match="expired"):
        post_policy.check(policy(), form(), 10, datetime(2024, 5, 8, 13, 0, tzinfo=UTC))
    with pytest.raises(AccessDenied, match="expired"):
        post_policy.check(policy(), form(), 10, NOW + timedelta(days=1))


def test_expiry_compares_instants_across_zones() -> None:
    doc = policy(expiration="2024-05-08T20:00:00+08:00")  # 12:00 UTC
    with pytest.raises(AccessDenied):
        post_policy.check(doc, form(), 1, NOW)
    post_policy.check(doc, form(), 1, NOW.astimezone(timezone(timedelta(hours=8))) - timedelta(seconds=1))


@pytest.mark.parametrize(
    "condition",
    [
        {"bucket": "other-1250000000"},
        {"key": "uploads/photo.JPG"},  # values are compared exactly
        ["eq", "$key", "uploads/other.jpg"],
        ["starts-with", "$key", "private/"],
        ["starts-with", "$x-cos-meta-owner", "a"],  # a field the form lacks
        ["starts-with", "$x-cos-meta-owner", ""],  # named by the policy, so it must be sent
        {"acl": "default"},
        ["content-length-range", 2000, 3000],
        ["content-length-range", 0, 1023],
    ],
)
def test_failing_condition(condition: Any) -> None:
    with pytest.raises(AccessDenied, match="policy condition failed"):
        post_policy.check(policy(condition), form(), 1024, NOW)


def test_empty_starts_with_allows_any_value_of_a_field_that_is_sent() -> None:
    post_policy.check(policy(["starts-with", "$x-cos-meta-tag", ""]), form(**{"x-cos-meta-tag": "t"}), 1, NOW)
    post_policy.check(policy(["starts-with", "$x-cos-meta-tag", ""]), form(**{"x-cos-meta-tag": ""}), 1, NOW)


def test_a_bucket_condition_needs_no_form_field() -> None:
    """COS: every field a policy names must be in the form, except ``bucket`` (from the request)."""
    fields = {k: v for k, v in form().items() if k != "bucket"}
    with pytest.raises(AccessDenied, match="bucket must equal"):
        post_policy.check(policy({"bucket": BUCKET}), fields, 1, NOW)
    post_policy.check(policy({"bucket": BUCKET}), form(), 1, NOW)


def test_condition_names_are_case_insensitive_and_dollar_optional() -> None:
    post_policy.check(policy({"Bucket": BUCKET}, ["eq", "key", "uploads/photo.jpg"]), form(), 1, NOW)


def test_content_length_range_bounds_are_inclusive() -> None:
    doc = policy(["content-length-range", 10, 20])
    post_policy.check(doc, form(), 10, NOW)
    post_policy.check(doc, form(), 20, NOW)
    for size in (9, 21, 0):
        with pytest.raises(AccessDenied):
            post_policy.check(doc, form(), size, NOW)


@pytest.mark.parametrize(
    "condition",
    [["in", "$key", "a"], ["starts-with", "$key"], "key", 42, ["eq", "$key", "a", "b"]],
)
def test_unsupported_conditions(condition: Any) -> None:
    with pytest.raises(InvalidPolicyDocument):
        post_policy.check(policy(condition), form(), 1, NOW)


@pytest.mark.parametrize("bound", ["a", "9" * 5000])
def test_a_content_length_range_that_is_not_two_integers_is_an_invalid_policy(bound: str) -> None:
    with pytest.raises(InvalidPolicyDocument, match="two integers"):
        post_policy.check(policy(["content-length-range", 0, bound]), form(), 1, NOW)


@pytest.mark.parametrize("bound", [1.5, True, -1, "+5", "1_0", 10**19])
def test_content_length_range_bounds_are_plain_non_negative_integers(bound: Any) -> None:
    """int() took 1.5 (as 1), True (as 1), '+5' and '1_0': the bounds go through domain.numbers."""
    with pytest.raises(InvalidPolicyDocument, match="two integers"):
        post_policy.length_range(post_policy.decode(_encoded(["content-length-range", 0, bound])))


def _encoded(condition: Any) -> str:
    document = {"expiration": "2030-01-01T00:00:00Z", "conditions": [condition]}
    return base64.b64encode(json.dumps(document).encode()).decode()
