"""Building workflow request bodies (as dicts for the SDK) and waiting for runs to finish."""

from __future__ import annotations

import time
from typing import Any

from qcloud_cos import CosS3Client

from tests.support.templates import picprocess_template, transcode_template

FINAL = {"Success", "Failed", "Cancel"}


def workflow_body(
    name: str,
    dependencies: dict[str, str],
    nodes: dict[str, dict[str, Any]],
    *,
    prefix: str = "",
    state: str | None = None,
    ext_filter: dict[str, str] | None = None,
    notify: dict[str, str] | None = None,
) -> dict[str, Any]:
    start_input: dict[str, Any] = {"ObjectPrefix": prefix}
    if ext_filter is not None:
        start_input["ExtFilter"] = ext_filter
    if notify is not None:
        start_input["NotifyConfig"] = notify
    body: dict[str, Any] = {
        "MediaWorkflow": {
            "Name": name,
            "Topology": {
                "Dependencies": dependencies,
                "Nodes": {"Start": {"Type": "Start", "Input": start_input}, **nodes},
            },
        }
    }
    if state is not None:
        body["MediaWorkflow"]["State"] = state
    return body


def node(node_type: str, output: str | None = None, **operation: Any) -> dict[str, Any]:
    op: dict[str, Any] = dict(operation)
    if output is not None:
        op["Output"] = {"Object": output}
    return {"Type": node_type, "Operation": op} if op else {"Type": node_type}


def wait_run(ci: CosS3Client, bucket: str, run_id: str, timeout: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        execution = ci.ci_get_workflowexecution(Bucket=bucket, RunId=run_id)["WorkflowExecution"][0]
        if execution["State"] in FINAL:
            return execution
        if time.monotonic() > deadline:
            raise AssertionError(f"run {run_id} still {execution['State']} after {timeout}s: {execution}")
        time.sleep(0.1)


def runs_of(ci: CosS3Client, bucket: str, workflow_id: str, **filters: Any) -> list[dict[str, Any]]:
    runs, token = [], ""
    while True:
        page = ci.ci_list_workflowexecution(Bucket=bucket, WorkflowId=workflow_id, NextToken=token, Size=100, **filters)
        runs += as_list(page.get("WorkflowExecutionList"))
        token = page.get("NextToken") or ""
        if not token:
            return runs


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def fan_in_workflow(ci: CosS3Client, bucket: str, name: str = "fan-in", prefix: str = "in/") -> str:
    """An Active workflow Start -> Transcode_a, Transcode_b -> PicProcess_1 -> End (two parents of
    one node); returns its WorkflowId."""
    transcode = transcode_template(ci, bucket)
    pic = picprocess_template(ci, bucket)
    body = workflow_body(
        name,
        {
            "Start": "Transcode_a,Transcode_b",
            "Transcode_a": "PicProcess_1",
            "Transcode_b": "PicProcess_1",
            "PicProcess_1": "End",
        },
        {
            "Transcode_a": node("Transcode", "a/${InputName}.${Ext}", TemplateId=transcode),
            "Transcode_b": node("Transcode", "b/${InputName}.${Ext}", TemplateId=transcode),
            "PicProcess_1": node("PicProcess", "pp/${InputPath}/${InputName}.${Ext}", TemplateId=pic),
        },
        state="Active",
        prefix=prefix,
    )
    return ci.ci_create_workflow(Bucket=bucket, Body=body)["MediaWorkflow"]["WorkflowId"]
