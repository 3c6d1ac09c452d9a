"""GET Bucket grouping and paging (``domain.listing.build_page``) over an in-memory sorted key list."""

from __future__ import annotations

import pytest

from cosflow.domain.listing import Page, build_page, common_prefix


class SortedKeys:
    """``fetch(after, limit)`` over a sorted list, as ``db.objects.page`` behaves, with a call budget."""

    def __init__(self, keys: list[str], prefix: str = "", budget: int = 10_000) -> None:
        self.keys = sorted(keys)
        self.prefix = prefix
        self.calls: list[tuple[str, int]] = []
        self.budget = budget

    def __call__(self, after: str, limit: int) -> list[tuple[str, str]]:
        self.calls.append((after, limit))
        if len(self.calls) > self.budget:
            raise AssertionError(f"build_page is looping: fetch called {len(self.calls)} times, last after={after!r}")
        rows = [k for k in self.keys if k > after and k >= self.prefix]
        return [(k, f"item:{k}") for k in rows[:limit]]


def page_of(
    keys: list[str], prefix: str = "", delimiter: str = "", marker: str = "", max_keys: int = 1000
) -> Page[str]:
    return build_page(SortedKeys(keys, prefix), prefix, delimiter, marker, max_keys)


def expected_listing(keys: list[str], prefix: str, delimiter: str, marker: str = "") -> list[tuple[str, str]]:
    """The whole listing, computed naively: ("key", k) and ("prefix", p) entries in order."""
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for key in sorted(keys):
        if not key.startswith(prefix):
            continue
        rolled = None
        if delimiter:
            at = key.find(delimiter, len(prefix))
            if at >= 0:
                rolled = key[: at + len(delimiter)]
        entry = ("key", key) if rolled is None else ("prefix", rolled)
        if entry[1] <= marker or entry in seen:
            continue
        seen.add(entry)
        out.append(entry)
    return out


def entries(page: Page[str]) -> list[tuple[str, str]]:
    """A page's entries in key order (contents and common prefixes interleaved)."""
    items = [("key", item.removeprefix("item:")) for item in page.contents]
    items += [("prefix", p) for p in page.common_prefixes]
    return sorted(items, key=lambda e: e[1])


def walk(keys: list[str], prefix: str, delimiter: str, max_keys: int) -> tuple[list[tuple[str, str]], int]:
    """Follow next_marker until not truncated; returns all entries and the number of pages."""
    marker, out, pages = "", [], 0
    while True:
        page = page_of(keys, prefix, delimiter, marker, max_keys)
        pages += 1
        got = entries(page)
        assert len(got) <= max_keys
        out.extend(got)
        if not page.is_truncated:
            return out, pages
        assert len(got) == max_keys, "a truncated page must be full"
        assert page.next_marker == got[-1][1]
        marker = page.next_marker
        assert pages < 1000, "pagination does not terminate"


KEYS = [
    "a.txt",
    "photos/2023/jan.jpg",
    "photos/2023/feb.jpg",
    "photos/2024/mar.jpg",
    "photos/cover.png",
    "photos/",
    "videos/clip.mp4",
    "videos/raw/clip.mov",
    "z",
]

UNICODE_KEYS = [
    "//double//slash",
    "/leading",
    "a//b",
    "a//c/d",
    "a///",
    "a/b",
    "a/b/",
    "a/b/c",
    "a/bc",
    "a/b/c/d/e",
    "ascii",
    "ä/1",
    "ä/2",
    "ä/ü/3",
    "日本/語/ファイル.txt",
    "日本/語.txt",
    "日本語",
    "emoji/😀/a",
    "emoji/😀",
    "emoji/😀😀",
    "space dir/a b",
    "space dir/c",
    "tab\there",
    "~tilde",
    "zz",
]


# --- common_prefix ------------------------------------------------------------------------------------
def test_common_prefix() -> None:
    assert common_prefix("a/b/c", "", "/") == "a/"
    assert common_prefix("a/b/c", "a/", "/") == "a/b/"
    assert common_prefix("a/b", "a/b", "/") is None
    assert common_prefix("a/b", "", "") is None
    assert common_prefix("x--y--z", "", "--") == "x--"
    assert common_prefix("abc", "", "/") is None


# --- single pages -------------------------------------------------------------------------------------
def test_flat_listing_returns_every_key_in_order() -> None:
    page = page_of(KEYS)
    assert page.contents == [f"item:{k}" for k in sorted(KEYS)]
    assert page.common_prefixes == []
    assert page.is_truncated is False


def test_empty_store() -> None:
    page = page_of([], delimiter="/")
    assert (page.contents, page.common_prefixes, page.is_truncated, page.next_marker) == ([], [], False, "")


def test_prefix_limits_the_listing() -> None:
    page = page_of(KEYS, prefix="photos/2023/")
    assert page.contents == ["item:photos/2023/feb.jpg", "item:photos/2023/jan.jpg"]
    assert page.is_truncated is False


def test_prefix_that_is_not_a_directory() -> None:
    page = page_of(KEYS, prefix="vid")
    assert page.contents == ["item:videos/clip.mp4", "item:videos/raw/clip.mov"]


def test_prefix_matching_nothing() -> None:
    page = page_of(KEYS, prefix="nope/", delimiter="/")
    assert (page.contents, page.common_prefixes, page.is_truncated) == ([], [], False)


def test_delimiter_rolls_up_common_prefixes() -> None:
    page = page_of(KEYS, delimiter="/")
    assert page.contents == ["item:a.txt", "item:z"]
    assert page.common_prefixes == ["photos/", "videos/"]
    assert page.is_truncated is False


def test_delimiter_under_a_prefix() -> None:
    page = page_of(KEYS, prefix="photos/", delimiter="/")
    # "photos/" itself is a key equal to the prefix: it is listed, not rolled up.
    assert page.contents == ["item:photos/", "item:photos/cover.png"]
    assert page.common_prefixes == ["photos/2023/", "photos/2024/"]


def test_multi_character_delimiter() -> None:
    keys = ["a--b--c", "a--d", "a-e", "b"]
    page = page_of(keys, delimiter="--")
    assert page.contents == ["item:a-e", "item:b"]
    assert page.common_prefixes == ["a--"]


def test_marker_skips_keys_up_to_and_including_it() -> None:
    page = page_of(KEYS, marker="photos/cover.png")
    assert page.contents == ["item:videos/clip.mp4", "item:videos/raw/clip.mov", "item:z"]


def test_marker_not_itself_a_key() -> None:
    page = page_of(KEYS, marker="photos/2023/g")
    assert page.contents[0] == "item:photos/2023/jan.jpg"


def test_marker_inside_a_common_prefix_does_not_repeat_it() -> None:
    page = page_of(KEYS, delimiter="/", marker="photos/2023/feb.jpg")
    assert page.common_prefixes == ["videos/"]
    assert page.contents == ["item:z"]


def test_marker_equal_to_a_common_prefix_does_not_repeat_it() -> None:
    page = page_of(KEYS, delimiter="/", marker="photos/")
    assert page.common_prefixes == ["videos/"]
    assert page.contents == ["item:z"]


def test_marker_inside_a_nested_common_prefix_under_a_prefix() -> None:
    page = page_of(KEYS, prefix="photos/", delimiter="/", marker="photos/2023/jan.jpg")
    assert page.common_prefixes == ["photos/2024/"]
    assert page.contents == ["item:photos/cover.png"]


def test_marker_past_everything() -> None:
    page = page_of(KEYS, delimiter="/", marker="zzz")
    assert (page.contents, page.common_prefixes, page.is_truncated) == ([], [], False)


def test_a_big_common_prefix_is_skipped_without_reading_all_of_it() -> None:
    keys = [f"big/{i:05d}" for i in range(5000)] + ["after"]
    fetch = SortedKeys(keys)
    page = build_page(fetch, "", "/", "", 1000)
    assert page.common_prefixes == ["big/"]
    assert page.contents == ["item:after"]
    assert len(fetch.calls) <= 3


# --- max_keys -----------------------------------------------------------------------------------------
def test_max_keys_truncates_and_sets_next_marker() -> None:
    page = page_of(KEYS, max_keys=3)
    assert page.contents == [f"item:{k}" for k in sorted(KEYS)[:3]]
    assert page.is_truncated is True
    assert page.next_marker == sorted(KEYS)[2]


def test_max_keys_counts_common_prefixes_too() -> None:
    page = page_of(KEYS, delimiter="/", max_keys=2)
    assert page.contents == ["item:a.txt"]
    assert page.common_prefixes == ["photos/"]
    assert page.is_truncated is True
    assert page.next_marker == "photos/"


def test_exactly_max_keys_left_is_not_truncated() -> None:
    page = page_of(KEYS, max_keys=len(KEYS))
    assert len(page.contents) == len(KEYS)
    assert page.is_truncated is False


def test_exactly_max_keys_left_with_delimiter_is_not_truncated() -> None:
    page = page_of(KEYS, delimiter="/", max_keys=4)
    assert len(page.contents) + len(page.common_prefixes) == 4
    assert page.is_truncated is False


def test_max_keys_zero_returns_an_empty_complete_page() -> None:
    # S3 (and so the SDKs' paginators) answer max-keys=0 with nothing and IsTruncated=false; a
    # truncated page with an empty NextMarker would send a paginating client round forever.
    page = page_of(KEYS, max_keys=0)
    assert page.contents == []
    assert page.common_prefixes == []
    assert page.next_marker == ""
    assert page.is_truncated is False


def test_max_keys_zero_on_an_empty_listing() -> None:
    page = page_of([], max_keys=0)
    assert (page.contents, page.common_prefixes, page.is_truncated) == ([], [], False)


# --- walking every page -------------------------------------------------------------------------------
@pytest.mark.parametrize("max_keys", [1, 2, 3, 5, 7, 1000])
@pytest.mark.parametrize(
    ("prefix", "delimiter"),
    [("", ""), ("", "/"), ("a/", "/"), ("a/", ""), ("a", "/"), ("日本/", "/"), ("emoji/", "/"), ("", "//"), ("ä", "/")],
)
def test_walking_all_pages_gives_the_full_listing(prefix: str, delimiter: str, max_keys: int) -> None:
    got, pages = walk(UNICODE_KEYS, prefix, delimiter, max_keys)
    want = expected_listing(UNICODE_KEYS, prefix, delimiter)
    assert got == want
    assert want, "the case should list something"
    assert pages == -(-len(want) // max_keys)  # no trailing empty page


def test_walking_a_larger_tree_page_by_page() -> None:
    keys = [f"d{i % 7}/f{i:04d}" for i in range(300)] + [f"top{i:03d}" for i in range(50)] + ["d3/sub/x", "d3/sub/y"]
    for max_keys in (1, 4, 10, 999):
        got, _ = walk(keys, "", "/", max_keys)
        assert got == expected_listing(keys, "", "/")
        got, _ = walk(keys, "d3/", "/", max_keys)
        assert got == expected_listing(keys, "d3/", "/")


def test_key_with_the_highest_code_point_is_rolled_up_once() -> None:
    # U+10FFFF is a legal character in a key (valid UTF-8); the roll-up cursor must still get past it.
    keys = ["a/\U0010ffff", "a/\U0010ffff\U0010ffff", "a/x", "b"]
    page = build_page(SortedKeys(keys, budget=50), "", "/", "", 1000)
    assert page.common_prefixes == ["a/"]
    assert page.contents == ["item:b"]


def test_marker_inside_a_prefix_holding_the_highest_code_point_terminates() -> None:
    keys = ["a/\U0010ffff\U0010ffff", "a/x", "b"]
    page = build_page(SortedKeys(keys, budget=50), "", "/", "a/x", 1000)
    assert page.common_prefixes == []
    assert page.contents == ["item:b"]
