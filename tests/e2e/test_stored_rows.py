"""A listing never fails because of one stored row (issue 9, defect 3).

Before the XML bounds, a template nested 970 deep (or a workflow 980 deep) was saved, and from then
on every listing of the bucket's templates (or workflows) answered 500, even after a restart, with
no way to learn the bad row's id to delete it. Such rows are put straight into the SQLite database
here (as an older version, or a hand edit, would have left them), next to healthy ones.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from qcloud_cos import CosS3Client
from qcloud_cos.cos_exception import CosServiceError

from tests.conftest import make_client
from tests.support.server import APPID, ServerProcess
from tests.support.templates import snapshot_template
from tests.support.workflows import as_list, node, runs_of, workflow_body

BUCKET = f"rows-{APPID}"
DEEP = "<n>" * 970 + "x" + "</n>" * 970


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path / "data").start()
    yield proc
    proc.stop()


def _restart(proc: ServerProcess) -> CosS3Client:
    proc.stop()
    proc.port = 0
    proc.start()
    return make_client(proc.port)


def _spoil(data_dir: Path, sql: str, *args: str) -> None:
    with closing(sqlite3.connect(data_dir / "cosflow.db")) as db, db:
        assert db.execute(sql, args).rowcount == 1


def _template(ci: CosS3Client, name: str) -> str:
    body = {"Tag": "Snapshot", "Name": name, "Snapshot": {"Count": "2"}}
    return ci.ci_create_template(Bucket=BUCKET, Template=body)["Template"]["TemplateId"]


def test_template_listing_survives_unreadable_rows(own_server: ServerProcess) -> None:
    ci = make_client(own_server.port)
    ci.create_bucket(Bucket=BUCKET)
    good, deep, garbage = _template(ci, "good"), _template(ci, "deep"), _template(ci, "garbage")
    own_server.stop()
    _spoil(
        own_server.data_dir, "UPDATE templates SET body = ? WHERE template_id = ?", f"<Snapshot>{DEEP}</Snapshot>", deep
    )
    _spoil(own_server.data_dir, "UPDATE templates SET body = ? WHERE template_id = ?", "<Snapshot><unclosed>", garbage)
    own_server.port = 0
    ci = make_client(own_server.start().port)

    listed = ci.ci_get_template(Bucket=BUCKET, Category="Custom")
    assert listed["TotalCount"] == "3"
    by_id = {t["TemplateId"]: t for t in as_list(listed["TemplateList"])}
    assert by_id[good]["Snapshot"] == {"Count": "2"}
    assert {by_id[deep]["Name"], by_id[garbage]["Name"]} == {"deep", "garbage"}  # shown, without the body
    assert not by_id[deep].get("Snapshot") and not by_id[garbage].get("Snapshot")
    assert "cannot be shown" in "".join(own_server.output)

    ci.ci_delete_template(Bucket=BUCKET, TemplateId=deep)  # the id was listed, so it can go
    ci = _restart(own_server)
    after = ci.ci_get_template(Bucket=BUCKET, Category="Custom")
    assert {t["TemplateId"] for t in as_list(after["TemplateList"])} == {good, garbage}


def test_workflow_listing_survives_unreadable_rows(own_server: ServerProcess) -> None:
    ci = make_client(own_server.port)
    ci.create_bucket(Bucket=BUCKET)
    snapshot = snapshot_template(ci, BUCKET)
    ids = {}
    for name in ("good", "deep"):
        task = node("Snapshot", "snaps/${InputName}-${Number}.${Ext}", TemplateId=snapshot)
        body = workflow_body(name, {"Start": "Snap_1", "Snap_1": "End"}, {"Snap_1": task}, prefix="in/")
        ids[name] = ci.ci_create_workflow(Bucket=BUCKET, Body=body)["MediaWorkflow"]["WorkflowId"]
    own_server.stop()
    topology = f"<Topology><Nodes>{DEEP}</Nodes></Topology>"
    sql = "UPDATE workflows SET topology = ?, state = 'Active' WHERE workflow_id = ?"
    _spoil(own_server.data_dir, sql, topology, ids["deep"])
    own_server.port = 0
    ci = make_client(own_server.start().port)

    listed = ci.ci_get_workflow(Bucket=BUCKET)
    assert listed["TotalCount"] == "2"
    by_name = {w["Name"]: w for w in as_list(listed["MediaWorkflowList"])}
    assert by_name["good"]["Topology"]["Nodes"]["Start"]["Type"] == "Start"
    assert by_name["deep"]["WorkflowId"] == ids["deep"] and not by_name["deep"].get("Topology")
    assert "cannot be used" in "".join(own_server.output)
    # An Active workflow whose topology cannot be read starts nothing and stops no upload.
    ci.put_object(Bucket=BUCKET, Key="in/upload.txt", Body=b"uploads still work")
    assert not runs_of(ci, BUCKET, ids["deep"])
    with pytest.raises(CosServiceError) as caught:
        ci.ci_trigger_workflow(Bucket=BUCKET, WorkflowId=ids["deep"], Key="in/upload.txt")
    assert (caught.value.get_status_code(), caught.value.get_error_code()) == (400, "InvalidArgument")

    ci.ci_update_workflow_state(Bucket=BUCKET, WorkflowId=ids["deep"], UpdateState="paused")
    with closing(sqlite3.connect(own_server.data_dir / "cosflow.db")) as db:  # the switch kept the row as stored
        row = db.execute("SELECT topology FROM workflows WHERE workflow_id = ?", (ids["deep"],)).fetchone()
    assert row == (topology,)
    ci.ci_delete_workflow(Bucket=BUCKET, WorkflowId=ids["deep"])
    ci = _restart(own_server)
    assert [w["WorkflowId"] for w in as_list(ci.ci_get_workflow(Bucket=BUCKET)["MediaWorkflowList"])] == [ids["good"]]
