"""The field table of docs/workflows.md ("Fields"), generated from cosflow's tables so the page
cannot drift from the code (``tests/unit/test_fields.py`` compares them)."""

from __future__ import annotations

from collections.abc import Iterable

from cosflow.domain import schemas
from cosflow.domain.fields import Honoured, Ignored, Schema, Unsupported
from cosflow.services.queues import UPDATE_FIELDS


def _compact(paths: Iterable[str]) -> str:
    groups: dict[str, list[str]] = {}
    for path in paths:
        head, _, name = path.rpartition("/")
        groups.setdefault(head, []).append(name)
    parts = []
    for head, names in groups.items():
        inner = names[0] if len(names) == 1 else "{" + ", ".join(names) + "}"
        parts.append(f"`{head}/{inner}`" if head else ", ".join(f"`{n}`" for n in names))
    return "; ".join(parts)


def _row(label: str, schema: Schema, skip: tuple[str, ...]) -> str:
    rules = [(p, r) for p, r in schema.fields.items() if p not in skip]
    switches = [(p, r) for p, r in rules if isinstance(r, Honoured) and len(r.values) == 1 and r.refused]
    honoured = [p for p, r in rules if isinstance(r, Honoured) and (p, r) not in switches]
    off_only = [p if r.values == ("false",) else f"{p}={r.values[0]}" for p, r in switches]
    no_effect = [p for p, r in rules if isinstance(r, Ignored)]
    refused = [p for p, r in rules if isinstance(r, Unsupported)]
    cells = [_compact(paths) for paths in (honoured, off_only, no_effect, refused)]
    return f"| {label} | {' | '.join(cells)} |"


def markdown() -> str:
    rows = [
        "| Body | Honoured | Honoured only switched off | Accepted without effect | Refused: not supported |",
        "|---|---|---|---|---|",
    ]
    rows += [_row(f"{tag} template", s, ("Tag", "Name")) for tag, s in schemas.TEMPLATES.items()]
    rows += [_row(f"{node_type} node", s, ("Type",)) for node_type, s in schemas.NODES.items()]
    rows.append(_row("UpdateMediaQueue", UPDATE_FIELDS, ()))
    return "\n".join(rows) + "\n"
