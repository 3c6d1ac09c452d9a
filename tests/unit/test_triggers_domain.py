"""The Start node's ObjectPrefix, rooted at the bucket root (issue 8 §3.1)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from cosflow.domain.topology import parse_topology
from cosflow.domain.triggers import prefix_matches, rooted, starts_run


@pytest.mark.parametrize(
    "prefix, key, expected",
    [
        ("/", "wk-test/game.mp4", True),
        ("/", "top.mp4", True),
        ("", "top.mp4", True),
        ("/wk-test", "wk-test/game.mp4", True),
        ("/wk-test", "wk-testing.mp4", True),  # a string prefix, as in COS listings
        ("/wk-test/", "wk-testing.mp4", False),
        ("wk-test/", "wk-test/game.mp4", True),
        ("wk-test/", "other/wk-test/game.mp4", False),
        ("/other/", "wk-test/game.mp4", False),
        ("//a", "/a.mp4", True),  # a key that itself starts with '/' sits under '//'
        ("/a", "/a.mp4", False),
        ("/WK-test", "wk-test/game.mp4", False),  # keys are case-sensitive
    ],
)
def test_prefix_is_rooted_at_slash(prefix: str, key: str, expected: bool) -> None:
    assert prefix_matches(prefix, key) is expected


def test_rooted_removes_one_leading_slash_only() -> None:
    assert [rooted(p) for p in ("", "/", "//", "/in/", "in/")] == ["", "", "/", "in/", "in/"]


def test_starts_run_needs_prefix_and_ext_filter() -> None:
    topology = parse_topology(
        ET.fromstring(
            "<Topology><Dependencies><Start>End</Start></Dependencies><Nodes><Start><Type>Start</Type>"
            "<Input><ObjectPrefix>/wk-test</ObjectPrefix><ExtFilter><State>On</State><Video>true</Video>"
            "</ExtFilter></Input></Start></Nodes></Topology>"
        )
    )
    start = topology.start_input()
    assert starts_run(start, "wk-test/game.mp4", "video/mp4")
    assert not starts_run(start, "wk-test/notes.txt", "text/plain")
    assert not starts_run(start, "elsewhere/game.mp4", "video/mp4")
