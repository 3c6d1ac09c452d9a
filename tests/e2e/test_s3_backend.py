"""The object API core and one workflow run over the S3 blob store (COSFLOW_BLOB_STORE=s3), against
moto's S3 server, driven by the official SDK; and bad S3 settings stopping start-up in one line."""

from __future__ import annotations

import hashlib
import io
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from qcloud_cos import CosS3Client
from qcloud_cos.cos_exception import CosServiceError

from cosflow.domain import qsign
from tests.conftest import make_client
from tests.support.media import make_image
from tests.support.moto import ACCESS_KEY, SECRET_KEY, MotoServer
from tests.support.server import APPID, SECRET_ID, ServerProcess
from tests.support.server import REGION as COS_REGION
from tests.support.server import SECRET_KEY as COS_SECRET_KEY
from tests.support.workflows import as_list, runs_of, wait_run

BUCKET = f"s3back-{APPID}"
PREFIX = "cosflow-e2e/"
MiB = 1024 * 1024


@pytest.fixture(scope="module")
def s3_bucket(moto_s3: MotoServer) -> str:
    return moto_s3.new_bucket()


@pytest.fixture(scope="module")
def s3_server(moto_s3: MotoServer, s3_bucket: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path_factory.mktemp("s3-data"), env=moto_s3.cosflow_env(s3_bucket, PREFIX)).start()
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def cos(s3_server: ServerProcess) -> CosS3Client:
    client = make_client(s3_server.port)
    client.create_bucket(Bucket=BUCKET)
    return client


def s3_keys(moto: MotoServer, bucket: str) -> list[str]:
    pages = moto.client().get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return [o["Key"] for page in pages for o in page.get("Contents", [])]


def read(cos: CosS3Client, key: str, **kwargs: Any) -> bytes:
    return cos.get_object(Bucket=BUCKET, Key=key, **kwargs)["Body"].get_raw_stream().read()  # type: ignore[no-any-return]


def test_put_get_range_head_delete_keep_the_bytes_in_the_bucket(
    cos: CosS3Client, moto_s3: MotoServer, s3_bucket: str, s3_server: ServerProcess
) -> None:
    body = os.urandom(20 * MiB + 123)  # more than two 8 MiB S3 parts: streamed as S3 multipart
    before = set(s3_keys(moto_s3, s3_bucket))
    put = cos.put_object(Bucket=BUCKET, Key="a/big.bin", Body=body)
    assert put["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
    (new_key,) = set(s3_keys(moto_s3, s3_bucket)) - before
    assert new_key.startswith(PREFIX + "blobs/")
    assert moto_s3.client().head_object(Bucket=s3_bucket, Key=new_key)["ETag"].strip('"').endswith("-3")
    assert not (s3_server.data_dir / "storage").exists()  # no bytes, and no disk reserve, on local disk

    assert read(cos, "a/big.bin") == body
    assert read(cos, "a/big.bin", Range="bytes=8388600-8388700") == body[8388600:8388701]
    assert read(cos, "a/big.bin", Range="bytes=-5") == body[-5:]
    assert int(cos.head_object(Bucket=BUCKET, Key="a/big.bin")["Content-Length"]) == len(body)

    cos.put_object(Bucket=BUCKET, Key="a/big.bin", Body=b"replaced")  # the old blob is collected
    assert read(cos, "a/big.bin") == b"replaced"
    assert new_key not in s3_keys(moto_s3, s3_bucket)
    cos.delete_object(Bucket=BUCKET, Key="a/big.bin")
    assert set(s3_keys(moto_s3, s3_bucket)) == before


def test_multipart_upload_file_then_copy_list_and_delete(
    cos: CosS3Client, moto_s3: MotoServer, s3_bucket: str, tmp_path: Path
) -> None:
    before = set(s3_keys(moto_s3, s3_bucket))
    data = os.urandom(3 * MiB + 4567)
    source = tmp_path / "upload.bin"
    source.write_bytes(data)
    cos.upload_file(Bucket=BUCKET, Key="mp/video.bin", LocalFilePath=str(source), PartSize=1, MAXThread=4)
    assert read(cos, "mp/video.bin") == data
    assert read(cos, "mp/video.bin", Range=f"bytes={MiB - 3}-{MiB + 3}") == data[MiB - 3 : MiB + 4]
    assert len(set(s3_keys(moto_s3, s3_bucket)) - before) == 5  # four part blobs and the manifest

    cos.copy_object(
        Bucket=BUCKET,
        Key="mp/copy.bin",
        CopySource={"Bucket": BUCKET, "Key": "mp/video.bin", "Region": COS_REGION},
    )
    cos.put_object(Bucket=BUCKET, Key="mp/other.txt", Body=b"x")
    listed = cos.list_objects(Bucket=BUCKET, Prefix="mp/", Delimiter="/")
    assert sorted(o["Key"] for o in listed["Contents"]) == ["mp/copy.bin", "mp/other.txt", "mp/video.bin"]
    cos.delete_object(Bucket=BUCKET, Key="mp/video.bin")
    assert read(cos, "mp/copy.bin") == data  # the copy owns copies of the parts
    cos.delete_objects(Bucket=BUCKET, Delete={"Object": [{"Key": "mp/copy.bin"}, {"Key": "mp/other.txt"}]})
    assert "Contents" not in cos.list_objects(Bucket=BUCKET, Prefix="mp/")
    assert set(s3_keys(moto_s3, s3_bucket)) == before



def test_a_workflow_reads_its_input_from_s3_and_writes_its_output_there(
    cos: CosS3Client, moto_s3: MotoServer, s3_bucket: str, tmp_path: Path
) -> None:
    template = cos.ci_create_template(
        Bucket=BUCKET,
        Template={"Tag": "PicProcess", "Name": "s3thumb", "PicProcess": {"ProcessRule": "imageMogr2/thumbnail/32x"}},
    )["Template"]["TemplateId"]
    topology = {
        "Dependencies": {"Start": "PicProcess_1", "PicProcess_1": "End"},
        "Nodes": {
            "Start": {"Type": "Start", "Input": {"ObjectPrefix": "in/"}},
            "PicProcess_1": {
                "Type": "PicProcess",
                "Operation": {"TemplateId": template, "Output": {"Object": "out/${InputName}.${Ext}"}},
            },
        },
    }
    workflow = cos.ci_create_workflow(
        Bucket=BUCKET, Body={"MediaWorkflow": {"Name": "s3flow", "State": "Active", "Topology": topology}}
    )["MediaWorkflow"]
    before = set(s3_keys(moto_s3, s3_bucket))
    image = make_image(tmp_path / "pic.png", 64, 64)
    cos.put_object(Bucket=BUCKET, Key="in/pic.png", Body=image.read_bytes())
    run = runs_of(cos, BUCKET, workflow["WorkflowId"])[0]
    execution = wait_run(cos, BUCKET, run["RunId"], timeout=60)
    assert execution["State"] == "Success", execution
    (task,) = as_list(execution["Tasks"])
    assert as_list(task["ResultInfo"]["ObjectInfo"])[0]["ObjectName"] == "out/pic.png"
    with Image.open(io.BytesIO(read(cos, "out/pic.png"))) as thumb:
        assert thumb.size == (32, 32)
    assert len(set(s3_keys(moto_s3, s3_bucket)) - before) == 2  # the input's blob and the output's


def test_a_put_cut_short_leaves_no_object_and_no_s3_upload(
    cos: CosS3Client, moto_s3: MotoServer, s3_bucket: str, s3_server: ServerProcess
) -> None:
    """The client goes away after 12 of 20 MiB (an S3 multipart upload already started): the
    upload is aborted, nothing appears in the bucket, the COS key stays absent."""
    before = set(s3_keys(moto_s3, s3_bucket))
    host = f"{BUCKET}.cos.{COS_REGION}.myqcloud.com"
    now = int(time.time())
    length = 20 * MiB
    headers = {"host": host, "content-length": str(length)}
    key_time = f"{now - 60};{now + 600}"
    auth = qsign.authorization_header(SECRET_ID, COS_SECRET_KEY, key_time, "PUT", "/cut.bin", {}, headers)
    request = f"PUT /cut.bin HTTP/1.1\r\nHost: {host}\r\nContent-Length: {length}\r\nAuthorization: {auth}\r\n\r\n"
    with socket.create_connection(("127.0.0.1", s3_server.port)) as sock:
        sock.sendall(request.encode())
        sock.sendall(os.urandom(12 * MiB))
        deadline = time.monotonic() + 10
        while not moto_s3.client().list_multipart_uploads(Bucket=s3_bucket).get("Uploads"):
            assert time.monotonic() < deadline, "the upload never reached S3"
            time.sleep(0.05)
    deadline = time.monotonic() + 10
    while moto_s3.client().list_multipart_uploads(Bucket=s3_bucket).get("Uploads"):
        assert time.monotonic() < deadline, "the S3 multipart upload of a cut PUT was never aborted"
        time.sleep(0.05)
    assert set(s3_keys(moto_s3, s3_bucket)) == before
    with pytest.raises(CosServiceError) as caught:
        cos.head_object(Bucket=BUCKET, Key="cut.bin")
    assert caught.value.get_status_code() == 404


# --- bad settings stop start-up in one line --------------------------------------------------------------
def refused_start(tmp_path: Path, env: dict[str, str]) -> str:
    with pytest.raises(RuntimeError, match="cosflow exited during start") as caught:
        ServerProcess(tmp_path / "data", env=env).start(timeout=60)
    output = str(caught.value)
    assert "Traceback" not in output
    assert ACCESS_KEY not in output and SECRET_KEY not in output and "pw@" not in output
    return output


def startup_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if "S3 store:" in line]


@pytest.fixture(scope="module")
def checking_moto() -> Iterator[MotoServer]:
    """A moto that checks access keys after its first request (which makes the bucket)."""
    server = MotoServer(env={"INITIAL_NO_AUTH_ACTION_COUNT": "1"}).start()
    server.client().create_bucket(Bucket="guarded")
    yield server
    server.stop()


def test_bad_s3_settings_stop_start_up_with_one_line(
    moto_s3: MotoServer, checking_moto: MotoServer, tmp_path: Path
) -> None:
    unreachable = moto_s3.cosflow_env("any") | {"COSFLOW_S3_ENDPOINT_URL": "http://user:pw@127.0.0.1:1"}
    (line,) = startup_lines(refused_start(tmp_path / "a", unreachable))
    assert line.endswith("S3 store: cannot reach http://127.0.0.1:1 (EndpointConnectionError)")

    (line,) = startup_lines(refused_start(tmp_path / "b", moto_s3.cosflow_env("no-such-bucket")))
    assert line.endswith(f"S3 store: bucket 'no-such-bucket' does not exist at {moto_s3.endpoint} (create it first)")

    wrong = checking_moto.cosflow_env("guarded") | {"COSFLOW_S3_SECRET_ACCESS_KEY": "not-the-secret"}
    (line,) = startup_lines(refused_start(tmp_path / "c", wrong))
    assert line.endswith(f"S3 store: {checking_moto.endpoint} refused the credentials for bucket 'guarded'")
    assert not (tmp_path / "c" / "data" / "cosflow.db").exists()  # refused before the database is touched


def test_blob_store_s3_without_a_bucket_is_a_configuration_error(tmp_path: Path) -> None:
    env = {"COSFLOW_BLOB_STORE": "s3", "COSFLOW_S3_BUCKET": ""}
    with pytest.raises(RuntimeError, match="cosflow exited during start") as caught:
        ServerProcess(tmp_path / "data", env=env).start()
    assert "configuration error: blob_store = s3 needs s3_bucket" in str(caught.value)
    assert "Traceback" not in str(caught.value)
