"""``api.headers``: what may be sent back as a response header (issue 9, defect 4)."""

from __future__ import annotations

import pytest

from cosflow.api import headers as hdr
from cosflow.errors import InvalidArgument


@pytest.mark.parametrize(
    "value, sent",
    [("text/plain", "text/plain"), (" x", "x"), ("x\t ", "x"), ("a  b\tc", "a  b\tc"), ("café", "café"), ("", "")],
)
def test_header_values_that_can_be_sent(value: str, sent: str) -> None:
    assert hdr.header_value("response-content-type", value) == sent


@pytest.mark.parametrize("value", ["中", "a\r\nX-Evil: 1", "a\nb", "a\rb", "a\x00b", "a\x7fb", "\x1b[31m", "\ud800"])
def test_header_values_that_cannot_be_sent_name_the_parameter(value: str) -> None:
    with pytest.raises(InvalidArgument, match="response-expires") as caught:
        hdr.header_value("response-expires", value)
    assert caught.value.resource == "response-expires"


def test_overrides_skip_blank_values_and_refuse_bad_ones() -> None:
    assert hdr.overrides({"response-content-type": " ", "response-expires": "0"}) == {"Expires": "0"}
    with pytest.raises(InvalidArgument):
        hdr.overrides({"response-content-disposition": "a\r\nb"})


def test_stored_attrs_are_checked_like_overrides() -> None:
    assert hdr.attrs_from({"x-cos-meta-a": "1", "content-type": " text/plain "}).content_type == "text/plain"
    for bad in ({"x-cos-meta-a": "x\r\ny"}, {"x-cos-meta-a b": "v"}, {"content-disposition": "\x00"}):
        with pytest.raises(InvalidArgument):
            hdr.attrs_from(bad)
