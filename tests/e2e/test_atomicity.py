"""The read-check-write sequences that must be atomic on every database: many PUTs of one key at
once, a duplicated CompleteMultipartUpload, two parents of one node finishing together (fan-in).
On SQLite the write lock taken by every transaction serialises them; on PostgreSQL (READ
COMMITTED) each sequence locks what it depends on (docs/design-choices.md, "Atomicity on
PostgreSQL"). Run on both databases inside ``make test``."""

from __future__ import annotations

import hashlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from qcloud_cos import CosS3Client
from qcloud_cos.cos_exception import CosServiceError

from tests.conftest import make_client
from tests.support.server import ServerProcess
from tests.support.workflows import as_list, fan_in_workflow, runs_of, wait_run

pytestmark = pytest.mark.both_databases

MiB = 1024 * 1024
PUTS = 160
THREADS = 32


def test_160_concurrent_puts_of_one_new_key_all_succeed_and_one_wins_whole(
    server: ServerProcess, client: CosS3Client, bucket: str
) -> None:
    """Every PUT is answered 200 (none fails on the key's row being inserted by another at the
    same moment), and the object afterwards is exactly one of the bodies, with its ETag."""
    bodies = [f"body {n} ".encode() * (n + 1) for n in range(PUTS)]
    clients = [make_client(server.port) for _ in range(THREADS)]
    together = threading.Barrier(THREADS)

    def put(n: int) -> str:
        if n < THREADS:  # the first wave starts at once, while the key does not exist yet
            together.wait()
        return clients[n % THREADS].put_object(Bucket=bucket, Key="contended/one.bin", Body=bodies[n])["ETag"]

    with ThreadPoolExecutor(THREADS) as pool:
        etags = list(pool.map(put, range(PUTS)))
    assert [e.strip('"') for e in etags] == [hashlib.md5(b).hexdigest() for b in bodies]
    got = client.get_object(Bucket=bucket, Key="contended/one.bin")
    data = got["Body"].get_raw_stream().read()
    assert data in bodies
    assert got["ETag"].strip('"') == hashlib.md5(data).hexdigest()
    listed = client.list_objects(Bucket=bucket, Prefix="contended/")["Contents"]
    assert [(o["Key"], int(o["Size"])) for o in listed] == [("contended/one.bin", len(data))]


def test_a_duplicated_complete_multipart_upload_completes_once(
    server: ServerProcess, client: CosS3Client, bucket: str
) -> None:
    """Two CompleteMultipartUpload calls for one upload at the same moment (an SDK retry racing
    the first): one completes it, the other finds it gone (NoSuchUpload); the object is whole."""
    first, second = os.urandom(MiB), os.urandom(1000)
    racers = [make_client(server.port) for _ in range(2)]
    for round_number in range(6):
        key = f"dup/{round_number}.bin"
        upload_id = client.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
        parts = [
            {
                "PartNumber": n,
                "ETag": client.upload_part(Bucket=bucket, Key=key, Body=b, PartNumber=n, UploadId=upload_id)["ETag"],
            }
            for n, b in ((1, first), (2, second))
        ]

        def complete(racer: CosS3Client, key: str = key, upload_id: str = upload_id, parts: list = parts) -> str:
            try:
                racer.complete_multipart_upload(
                    Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Part": parts}
                )
            except CosServiceError as exc:
                return exc.get_error_code()
            return "completed"

        with ThreadPoolExecutor(2) as pool:
            outcomes = sorted(pool.map(complete, racers))
        assert outcomes == ["NoSuchUpload", "completed"], (round_number, outcomes)
        assert client.get_object(Bucket=bucket, Key=key)["Body"].get_raw_stream().read() == first + second
    assert not client.list_multipart_uploads(Bucket=bucket).get("Upload")


def test_parents_finishing_together_start_their_fan_in_node_exactly_once(ci: CosS3Client, media_bucket: str) -> None:
    """Two quick parents of one node, in many runs at once: each run creates the fan-in task once,
    after both parents, and finishes (a missed or doubled successor leaves the run Running or
    runs the node twice)."""
    workflow_id = fan_in_workflow(ci, media_bucket, name="fan-in-race", prefix="race/")
    uploads = 16
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda n: ci.put_object(Bucket=media_bucket, Key=f"race/{n}.mp4", Body=b"x"), range(uploads)))
    runs = runs_of(ci, media_bucket, workflow_id)
    assert len(runs) == uploads
    for run in runs:
        execution = wait_run(ci, media_bucket, run["RunId"])
        tasks = [t["Name"] for t in as_list(execution.get("Tasks"))]
        assert execution["State"] == "Success", execution
        assert sorted(tasks) == ["PicProcess_1", "Transcode_a", "Transcode_b"], tasks
