"""The whole pipeline on real FFmpeg: upload a generated 1080p clip with the official SDK to a
workflow Start -> Transcode(HLS-265-FHD) + Snapshot(sprite) + SmartCover -> PicProcess, then fetch
every output by its ObjectUrl and probe it."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import av
import httpx
import pytest
from PIL import Image
from qcloud_cos import CosS3Client

from tests.support.media import make_video
from tests.support.server import ServerProcess
from tests.support.workflows import as_list, runs_of, wait_run


def _fetch(client: CosS3Client, server: ServerProcess, url: str) -> bytes:
    """GET an ObjectUrl (path-style on the server's public URL), signed for this private bucket."""
    path = unquote(urlsplit(url).path)
    bucket, key = path.lstrip("/").split("/", 1)
    host = f"127.0.0.1:{server.port}"
    auth = client.get_auth(Method="GET", Bucket=bucket, Key=f"{bucket}/{key}", Headers={"Host": host})
    response = httpx.get(url, headers={"Authorization": auth})
    assert response.status_code == 200, (url, response.text)
    return response.content


def _official(client: CosS3Client, bucket: str, name: str) -> str:
    templates = as_list(client.ci_get_template(Bucket=bucket, Category="Official", Name=name)["TemplateList"])
    return next(t["TemplateId"] for t in templates if t["Name"] == name)


def _decode_all(data: bytes, suffix: str) -> tuple[int, str, int]:
    with tempfile.NamedTemporaryFile(suffix=suffix) as f:
        f.write(data)
        f.flush()
        with av.open(f.name) as container:
            stream = container.streams.video[0]
            frames = sum(1 for _ in container.decode(stream))
            return frames, stream.codec_context.name, stream.codec_context.height


def test_upload_1080p_runs_the_full_media_pipeline(
    client: CosS3Client, server: ServerProcess, bucket: str, tmp_path: Path
) -> None:
    hls = _official(client, bucket, "HLS-265-FHD")
    sprite = client.ci_create_template(
        Bucket=bucket,
        Template={
            "Tag": "Snapshot",
            "Name": "sprite",
            "Snapshot": {
                "Mode": "Average",
                "Count": "4",
                "Width": "320",
                "SnapshotOutMode": "SnapshotAndSprite",
                "SpriteSnapshotConfig": {
                    "CellWidth": "160",
                    "CellHeight": "90",
                    "Padding": "4",
                    "Margin": "6",
                    "Color": "black",
                    "Columns": "2",
                    "Lines": "2",
                },
            },
        },
    )["Template"]["TemplateId"]
    thumb = client.ci_create_template(
        Bucket=bucket,
        Template={
            "Tag": "PicProcess",
            "Name": "thumb",
            "PicProcess": {"ProcessRule": "imageMogr2/thumbnail/200x/format/png"},
        },
    )["Template"]["TemplateId"]
    topology = {
        "Dependencies": {
            "Start": "Transcode_1,Snapshot_1,SmartCover_1",
            "Transcode_1": "End",
            "Snapshot_1": "End",
            "SmartCover_1": "PicProcess_1",
            "PicProcess_1": "End",
        },
        "Nodes": {
            "Start": {"Type": "Start", "Input": {"ObjectPrefix": "up/", "ExtFilter": {"State": "On", "Video": "true"}}},
            "Transcode_1": {
                "Type": "Transcode",
                "Operation": {"TemplateId": hls, "Output": {"Object": "hls/${InputName}/index.${Ext}"}},
            },
            "Snapshot_1": {
                "Type": "Snapshot",
                "Operation": {
                    "TemplateId": sprite,
                    "Output": {
                        "Object": "snap/${InputName}-${Number}.${Ext}",
                        "SpriteObject": "sprite/${InputName}-${Number}.${Ext}",
                    },
                },
            },
            "SmartCover_1": {
                "Type": "SmartCover",
                "Operation": {
                    "SmartCover": {"Format": "jpg", "Count": "1"},
                    "Output": {"Object": "cover/${InputName}.${Ext}"},
                },
            },
            "PicProcess_1": {
                "Type": "PicProcess",
                "Operation": {"TemplateId": thumb, "Output": {"Object": "thumb/${InputName}.${Ext}"}},
            },
        },
    }
    workflow = client.ci_create_workflow(
        Bucket=bucket, Body={"MediaWorkflow": {"Name": "pipeline", "State": "Active", "Topology": topology}}
    )["MediaWorkflow"]
    clip = make_video(tmp_path / "clip.mp4", seconds=1.0, width=1920, height=1080)
    client.upload_file(Bucket=bucket, Key="up/clip.mp4", LocalFilePath=str(clip), ContentType="video/mp4")
    run = runs_of(client, bucket, workflow["WorkflowId"])[0]
    execution = wait_run(client, bucket, run["RunId"], timeout=240)
    tasks = {t["Name"]: t for t in as_list(execution["Tasks"])}
    assert execution["State"] == "Success", execution
    assert tasks["Transcode_1"]["TemplateName"] == "HLS-265-FHD"

    playlist_url = as_list(tasks["Transcode_1"]["ResultInfo"]["ObjectInfo"])[0]["ObjectUrl"]
    playlist = _fetch(client, server, playlist_url).decode()
    assert "#EXT-X-ENDLIST" in playlist
    media_lines = [line for line in playlist.splitlines() if line and not line.startswith("#")]
    init = [line.split('URI="')[1].split('"')[0] for line in playlist.splitlines() if "EXT-X-MAP" in line]
    assert media_lines
    header = _fetch(client, server, urljoin(playlist_url, init[0])) if init else b""
    for segment in media_lines:
        frames, codec, height = _decode_all(header + _fetch(client, server, urljoin(playlist_url, segment)), ".mp4")
        assert frames > 0 and codec == "hevc" and height == 1080

    snaps = as_list(tasks["Snapshot_1"]["ResultInfo"]["ObjectInfo"])
    assert len(snaps) == 4
    for info in snaps:
        assert Image.open(io.BytesIO(_fetch(client, server, info["ObjectUrl"]))).width == 320
    sheets = as_list(tasks["Snapshot_1"]["ResultInfo"]["SpriteObjectInfo"])
    assert tasks["Snapshot_1"]["ResultInfo"]["SpriteObjectCount"] == "1"
    sheet = Image.open(io.BytesIO(_fetch(client, server, sheets[0]["ObjectUrl"])))
    assert sheet.size == (2 * 160 + 4 + 2 * 6, 2 * 90 + 4 + 2 * 6)

    cover = as_list(tasks["SmartCover_1"]["ResultInfo"]["ObjectInfo"])[0]
    assert Image.open(io.BytesIO(_fetch(client, server, cover["ObjectUrl"]))).size == (1920, 1080)
    thumb_info = as_list(tasks["PicProcess_1"]["ResultInfo"]["ObjectInfo"])[0]
    assert thumb_info["ObjectName"] == "thumb/clip.png" and thumb_info["InputObjectName"] == "cover/clip.jpg"
    image = Image.open(io.BytesIO(_fetch(client, server, thumb_info["ObjectUrl"])))
    assert image.format == "PNG" and image.width == 200


@pytest.mark.parametrize(
    "body",
    [b"", b"\x00\x01garbage" * 1000, b"not a video at all", "truncated"],
    ids=["empty", "garbage", "text", "truncated"],
)
def test_bad_input_fails_the_task_cleanly_and_the_worker_stays_healthy(
    client: CosS3Client, bucket: str, tmp_path: Path, body: bytes | str
) -> None:
    hd = _official(client, bucket, "MP4-H264-SD")
    topology = {
        "Dependencies": {"Start": "Transcode_1", "Transcode_1": "End"},
        "Nodes": {
            "Start": {"Type": "Start", "Input": {"ObjectPrefix": "in/"}},
            "Transcode_1": {
                "Type": "Transcode",
                "Operation": {"TemplateId": hd, "Output": {"Object": "out/${InputName}.${Ext}"}},
            },
        },
    }
    workflow = client.ci_create_workflow(
        Bucket=bucket, Body={"MediaWorkflow": {"Name": "bad-input", "State": "Active", "Topology": topology}}
    )["MediaWorkflow"]
    if body == "truncated":
        whole = make_video(tmp_path / "whole.mp4", seconds=2.0).read_bytes()
        body = whole[: len(whole) // 2]
    client.put_object(Bucket=bucket, Key="in/bad.mp4", Body=body)
    run = runs_of(client, bucket, workflow["WorkflowId"])[0]
    execution = wait_run(client, bucket, run["RunId"], timeout=60)
    task = as_list(execution["Tasks"])[0]
    assert execution["State"] == "Failed" and task["State"] == "Failed"
    assert task["Code"] == "InvalidInput", task
    assert "Traceback" not in task["Message"] and len(task["Message"]) < 2100
    listing = client.list_objects(Bucket=bucket, Prefix="out/")
    assert not listing.get("Contents")  # nothing half-written
    good = make_video(tmp_path / "good.mp4", seconds=1.0)
    client.upload_file(Bucket=bucket, Key="in/good.mp4", LocalFilePath=str(good))
    runs = runs_of(client, bucket, workflow["WorkflowId"])
    latest = next(r for r in runs if r["Object"] == "in/good.mp4")
    assert wait_run(client, bucket, latest["RunId"], timeout=60)["State"] == "Success"
