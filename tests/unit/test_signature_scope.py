"""``require_signed``: which unsigned query parameters a signature may leave out (api/auth.py)."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from cosflow.api.auth import ANONYMOUS, Principal, require_signed
from cosflow.errors import SignatureDoesNotMatch

SELECTORS = frozenset({"uploadid", "partnumber", "cancel"})


def _request(query: str) -> Request:
    return Request({"type": "http", "method": "PUT", "path": "/k", "query_string": query.encode(), "headers": []})


def _signer(*signed: str, presigned: bool = False) -> Principal:
    return Principal("AKIDx", frozenset(signed), presigned)


def test_signed_selectors_and_other_unsigned_parameters_pass() -> None:
    require_signed(_request("uploadId=u&partNumber=1&extra=1"), _signer("uploadid", "partnumber"), SELECTORS)


@pytest.mark.parametrize("query", ["uploadId=u&partNumber=1", "UPLOADID=u", "partnumber", "uploadId=u&uploadId=v"])
def test_an_unsigned_selector_is_refused_whatever_its_case(query: str) -> None:
    with pytest.raises(SignatureDoesNotMatch) as err:
        require_signed(_request(query), _signer(), SELECTORS)
    assert query.split("=")[0].split("&")[0] in str(err.value)


def test_one_unsigned_selector_beside_signed_ones_is_named() -> None:
    with pytest.raises(SignatureDoesNotMatch) as err:
        require_signed(_request("uploadId=u&partNumber=1"), _signer("uploadid"), SELECTORS)
    assert "partNumber" in str(err.value) and "uploadId" not in str(err.value)


def test_header_form_exemption_does_not_extend_to_presigned_links() -> None:
    require_signed(_request("cancel"), _signer(), SELECTORS, {"cancel"})
    with pytest.raises(SignatureDoesNotMatch):
        require_signed(_request("cancel"), _signer(presigned=True), SELECTORS, {"cancel"})
    require_signed(_request("cancel"), _signer("cancel", presigned=True), SELECTORS, {"cancel"})


def test_anonymous_callers_are_left_to_the_authorisation_rules() -> None:
    require_signed(_request("uploadId=u"), ANONYMOUS, SELECTORS)
