"""Bucket name and object key rules (``domain.names``)."""

from __future__ import annotations

import pytest

from cosflow.domain.names import MAX_KEY_BYTES, validate_bucket_name, validate_key
from cosflow.errors import InvalidArgument, InvalidBucketName, KeyTooLong

APPID = "1250000000"


# --- object keys -------------------------------------------------------------------------------------
def test_limit_is_850_bytes() -> None:
    assert MAX_KEY_BYTES == 850


@pytest.mark.parametrize(
    "key",
    [
        "a" * 850,
        "中" * 283,  # 849 bytes
        "é" * 425,  # 850 bytes
        "😀" * 212,  # 848 bytes
        "a" * 846 + "😀",  # 850 bytes
    ],
)
def test_keys_up_to_850_utf8_bytes_are_accepted(key: str) -> None:
    assert len(key.encode()) <= 850
    assert validate_key(key) == key


@pytest.mark.parametrize(
    "key",
    [
        "a" * 851,
        "中" * 284,  # only 284 characters, but 852 bytes
        "é" * 426,  # 852 bytes
        "😀" * 213,  # 852 bytes
        "a" * 847 + "😀",  # 851 bytes
    ],
)
def test_keys_over_850_utf8_bytes_are_too_long(key: str) -> None:
    assert len(key) <= 851
    with pytest.raises(KeyTooLong) as caught:
        validate_key(key)
    assert caught.value.resource == key


@pytest.mark.parametrize(
    "key",
    ["../../etc/passwd", "a//b", "/leading", "trailing/", ".", "..", " ", "a\tb", "%2F", "?x=1#y", "\u00a0"],
)
def test_odd_but_storable_keys_are_accepted(key: str) -> None:
    assert validate_key(key) == key


def test_empty_key_is_rejected() -> None:
    with pytest.raises(InvalidArgument):
        validate_key("")


@pytest.mark.parametrize("key", ["a\x00b", "\x00", "bad\ud800", "\udfff"])
def test_nul_and_unpaired_surrogates_are_rejected(key: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        validate_key(key)
    assert not isinstance(caught.value, KeyTooLong)


# --- bucket names --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name",
    [
        f"b-{APPID}",
        f"examplebucket-{APPID}",
        f"0-{APPID}",
        f"my-bucket-2-{APPID}",
        f"a--b-{APPID}",
        f"{'a' * 49}-{APPID}",  # exactly 60 characters
    ],
)
def test_valid_bucket_names(name: str) -> None:
    assert validate_bucket_name(name, APPID) == name


@pytest.mark.parametrize(
    "name",
    [
        "examplebucket",  # no APPID at all
        f"examplebucket{APPID}",  # no dash
        "examplebucket-1250000001",  # someone else's APPID
        f"examplebucket-{APPID}0",
        f"examplebucket-{APPID}-",
        f"-{APPID}",  # empty name part
        f"Example-{APPID}",  # upper case
        f"example_bucket-{APPID}",
        f"example.bucket-{APPID}",
        f"-example-{APPID}",  # starts with a dash
        f"example--{APPID}",  # name part ends with a dash
        f"ümlaut-{APPID}",
        f"{'a' * 50}-{APPID}",  # 61 characters
    ],
)
def test_invalid_bucket_names(name: str) -> None:
    with pytest.raises(InvalidBucketName) as caught:
        validate_bucket_name(name, APPID)
    assert caught.value.resource == name


def test_bucket_name_error_says_which_appid_is_needed() -> None:
    with pytest.raises(InvalidBucketName, match=f"-{APPID}"):
        validate_bucket_name("examplebucket", APPID)


def test_bucket_name_checks_the_given_appid() -> None:
    assert validate_bucket_name("b-1300000000", "1300000000") == "b-1300000000"
    with pytest.raises(InvalidBucketName):
        validate_bucket_name(f"b-{APPID}", "1300000000")
