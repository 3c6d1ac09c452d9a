"""Seeding the Official templates at start: stable ids, UpdateTime moves only when a definition does."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine

from cosflow.db import templates as template_rows
from cosflow.db.engine import make_engine, migrate
from cosflow.services.templates import seed_presets

PRESET = ("tpreset", "MP4-H264-HD", "Transcode", "<Transcode><Container><Format>mp4</Format></Container></Transcode>")


def _times(engine: Engine, template_id: str) -> tuple[datetime, datetime]:
    with engine.connect() as conn:
        found = template_rows.get_template(conn, "", template_id)
    assert found is not None
    return found[1], found[2]


def test_a_restart_leaves_unchanged_presets_alone_and_refreshes_changed_ones(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'cosflow.db'}")
    migrate(engine)
    seed_presets(engine, [PRESET])
    created, updated = _times(engine, "tpreset")
    seed_presets(engine, [PRESET])  # a restart with the same definitions
    assert _times(engine, "tpreset") == (created, updated)
    changed = (*PRESET[:3], PRESET[3].replace("mp4", "mkv"))
    seed_presets(engine, [changed])  # a new release changed the preset
    created_after, updated_after = _times(engine, "tpreset")
    assert created_after == created and updated_after > updated
    with engine.connect() as conn:
        found = template_rows.get_template(conn, "", "tpreset")
    assert found is not None and found[0].body.findtext("Container/Format") == "mkv"
    engine.dispose()
