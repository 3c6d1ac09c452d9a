"""Creating templates through the SDK for workflow tests."""

from __future__ import annotations

from qcloud_cos import CosS3Client


def transcode_template(ci: CosS3Client, bucket: str, name: str = "mp4-test") -> str:
    body = {
        "Tag": "Transcode",
        "Name": name,
        "Container": {"Format": "mp4"},
        "Video": {"Codec": "H.264", "Width": "640"},
        "Audio": {"Codec": "aac"},
    }
    return ci.ci_create_template(Bucket=bucket, Template=body)["Template"]["TemplateId"]


def snapshot_template(ci: CosS3Client, bucket: str, count: int = 1, name: str = "snap-test") -> str:
    body = {"Tag": "Snapshot", "Name": name, "Snapshot": {"Mode": "Interval", "Count": str(count), "Start": "0"}}
    return ci.ci_create_template(Bucket=bucket, Template=body)["Template"]["TemplateId"]


def picprocess_template(ci: CosS3Client, bucket: str, name: str = "pic-test") -> str:
    body = {"Tag": "PicProcess", "Name": name, "PicProcess": {"ProcessRule": "imageMogr2/thumbnail/64x"}}
    return ci.ci_create_template(Bucket=bucket, Template=body)["Template"]["TemplateId"]
