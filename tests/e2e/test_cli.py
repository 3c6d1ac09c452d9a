"""The command line: serve's banner, doctor, settings file."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from dataclasses import fields
from pathlib import Path

from cosflow.settings import Settings, load_settings
from tests.support.server import SECRET_ID, SECRET_KEY, ServerProcess

ROOT = Path(__file__).resolve().parents[2]


def test_serve_banner_tells_how_to_connect(server: ServerProcess) -> None:
    banner = "".join(server.output)
    assert f"listening on http://127.0.0.1:{server.port}" in banner
    for expected in (
        "APPID      1250000000",
        "ap-guangzhou",
        SECRET_ID,
        SECRET_KEY,
        "CosS3Client",
        f"Port={server.port}",
    ):
        assert expected in banner


def test_doctor_reports_ffmpeg_database_and_data_dir(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cosflow", "doctor", "--data-dir", str(tmp_path / "d")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "ffmpeg" in out and "version" in out
    assert "sqlite" in out and "(writable)" in out


def test_example_config_documents_every_setting_and_loads(tmp_path: Path) -> None:
    example = ROOT / "cosflow.example.toml"
    documented = set(tomllib.loads(example.read_text()))
    assert documented == {f.name for f in fields(Settings)} - {"credentials"}
    settings = load_settings(example, env={}, data_dir=tmp_path)
    assert settings.port == 8080 and settings.domains == ("myqcloud.com", "tencentcos.cn")
    assert settings.credentials  # the dev pair was generated into tmp_path
    assert (tmp_path / "dev-credentials.json").exists()
