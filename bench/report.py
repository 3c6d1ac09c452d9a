"""Writing one benchmark's section into docs/benchmarks.md, keeping the others."""

from __future__ import annotations

from pathlib import Path


def write_section(path: Path, heading: str, text: str) -> None:
    """Replace the section that starts with ``heading`` (up to the next ``## ``), or append it."""
    existing = path.read_text() if path.exists() else "# Benchmarks\n"
    if heading in existing:
        start = existing.index(heading)
        nxt = existing.find("\n## ", start + len(heading))
        existing = existing[:start] + text + (existing[nxt + 1 :] if nxt >= 0 else "")
    else:
        existing = existing.rstrip() + "\n\n" + text
    path.write_text(existing)
