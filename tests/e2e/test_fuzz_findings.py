"""Defects the fuzzer (tests/fuzz) found outside the issue's list, each pinned by a direct test."""

from __future__ import annotations

import pytest
from qcloud_cos import CosS3Client

from tests.support.server import ServerProcess
from tests.support.signing import error_code, signed


@pytest.mark.parametrize("encoding", ["ebcdic-x", "rot13", "shift_jis", "idna"])
def test_an_xml_body_declaring_an_unreadable_encoding_is_malformed_xml(
    client: CosS3Client, server: ServerProcess, bucket: str, encoding: str
) -> None:
    """expat raises LookupError/ValueError (not ParseError) for these; it was a 500."""
    client.put_object(Bucket=bucket, Key="a", Body=b"still here")
    body = f'<?xml version="1.0" encoding="{encoding}"?>\n<Delete><Object><Key>a</Key></Object></Delete>'.encode()
    resp = signed(client, server, bucket, "POST", "/", {"delete": ""}, body)
    assert (resp.status_code, error_code(resp)) == (400, "MalformedXML"), resp.text
    assert client.get_object(Bucket=bucket, Key="a")["Body"].get_raw_stream().read() == b"still here"
