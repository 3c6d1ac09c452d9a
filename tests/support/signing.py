"""Raw requests signed by the official SDK's own ``get_auth`` (for shapes the SDK has no method
for), reading of COS error bodies, and hostile XML bodies."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import quote

import httpx
from qcloud_cos import CosS3Client

from tests.support.server import REGION, ServerProcess


def signed(
    client: CosS3Client,
    server: ServerProcess,
    bucket: str,
    method: str,
    path: str,
    params: dict[str, str] | None = None,
    body: bytes | None = None,
    svc: str = "cos",
    quoted: bool = False,
) -> httpx.Response:
    """``method path`` on the bucket's virtual host; a body is sent with its Content-MD5.
    ``quoted`` percent-encodes the path (keys with control characters, which httpx refuses raw)."""
    host = f"{bucket}.{svc}.{REGION}.myqcloud.com"
    params = params or {}
    headers = {"Host": host}
    if body is not None:
        headers["Content-MD5"] = base64.b64encode(hashlib.md5(body).digest()).decode()
    auth = client.get_auth(Method=method, Bucket=bucket, Key=path, Params=params, Headers=headers)
    url = server.endpoint + "/" + (quote(path.lstrip("/"), safe="/") if quoted else path.lstrip("/"))
    return httpx.request(method, url, params=params, content=body, headers={**headers, "Authorization": auth})


def bare_api(client: CosS3Client, server: ServerProcess, method: str, path: str, **params: str) -> httpx.Response:
    """``method path`` on the server's bare host (the ``/api/...`` JSON APIs), signed."""
    host = f"127.0.0.1:{server.port}"
    auth = client.get_auth(Method=method, Bucket="x-1250000000", Key=path, Params=params, Headers={"Host": host})
    return httpx.request(method, server.endpoint + path, params=params, headers={"Authorization": auth})


def error_field(resp: httpx.Response, name: str) -> str:
    text = resp.text
    return text.split(f"<{name}>", 1)[1].split(f"</{name}>", 1)[0] if f"<{name}>" in text else ""


def error_code(resp: httpx.Response) -> str:
    return error_field(resp, "Code")


def billion_laughs(document: str) -> bytes:
    """``document`` (with ``&lol9;`` where the bomb goes) behind a DTD that expands to ~3 GB."""
    entities = ['<!ENTITY lol "lol">'] + [
        f'<!ENTITY lol{n} "{("&lol" + (str(n - 1) if n > 2 else "") + ";") * 10}">' for n in range(2, 10)
    ]
    return ('<?xml version="1.0"?>\n<!DOCTYPE lolz [\n' + "\n".join(entities) + "\n]>\n" + document).encode()
