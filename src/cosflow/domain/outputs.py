"""Output object names (spec §5.5): variables substituted case-insensitively."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

_VARIABLE = re.compile(r"\$\{([A-Za-z0-9]+)\}")

#: Used when a node has no Output/Object: next to the input, named after it and the job.
DEFAULT_PATTERN = "${InputPath}/${InputName}_${JobId}.${Ext}"
DEFAULT_MULTI_PATTERN = "${InputPath}/${InputName}_${JobId}_${Number}.${Ext}"
#: Sprite sheets without Output/SpriteObject: never the same name as a snapshot.
DEFAULT_SPRITE_PATTERN = "${InputPath}/${InputName}_${JobId}_sprite_${Number}.${Ext}"


@dataclass(frozen=True)
class NameContext:
    input_key: str
    run_id: str
    job_id: str


def render(pattern: str, context: NameContext, ext: str, number: int | None = None, time_ms: int | None = None) -> str:
    """The object key for one product; a leading ``/`` (empty ``${InputPath}``) is dropped."""
    directory, filename = posixpath.split(context.input_key)
    stem = filename.rsplit(".", 1)[0] if "." in filename else filename
    values = {
        "inputpath": directory,
        "inputname": stem,
        "inputnameandext": filename,
        "runid": context.run_id,
        "jobid": context.job_id,
        "ext": ext,
        "number": "" if number is None else str(number),
        "time": "" if time_ms is None else str(time_ms),
    }
    name = _VARIABLE.sub(lambda m: values.get(m.group(1).lower(), m.group(0)), pattern)
    return name.lstrip("/")


def unknown_variables(pattern: str) -> list[str]:
    known = {"inputpath", "inputname", "inputnameandext", "runid", "jobid", "ext", "number", "time"}
    return [m.group(0) for m in _VARIABLE.finditer(pattern) if m.group(1).lower() not in known]
