"""After a fuzz run: the server still stores and serves (a PUT, a GET, a workflow listing)."""

from __future__ import annotations

from qcloud_cos import CosS3Client

from tests.fuzz.families import State


def still_serves(client: CosS3Client, state: State) -> bool:
    body = b"after the fuzz run"
    client.put_object(Bucket=state.bucket, Key="after-fuzz.txt", Body=body)
    got = client.get_object(Bucket=state.bucket, Key="after-fuzz.txt")["Body"].get_raw_stream().read()
    listed = client.ci_get_workflow(Bucket=state.bucket, Ids=state.workflow_ids[0])
    return bool(got == body and listed.get("MediaWorkflowList"))
