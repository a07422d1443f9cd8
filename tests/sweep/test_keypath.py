"""Key paths: parsing, and edits into mappings and lists with errors that say what is wrong."""

from __future__ import annotations

import pytest

from orchestrator.sweep.keypath import (
    KeyPathError, format_key_path, get_path, parse_key_path, set_path)


@pytest.mark.parametrize("text, segments", [
    ("options.comm_scale", ("options", "comm_scale")),
    ("network.link-bandwidth[1]", ("network", "link-bandwidth", 1)),
    ("system.all-reduce-implementation", ("system", "all-reduce-implementation")),
    ("a[0][2].b", ("a", 0, 2, "b")),
    ("a[-1]", ("a", -1)),
])
def test_parse_and_format_round_trip(text: str, segments: tuple) -> None:
    assert parse_key_path(text) == segments
    assert format_key_path(segments) == text


@pytest.mark.parametrize("text", ["", "a..b", "a[x]", "[0]", "a.", "a[1"])
def test_malformed_paths_are_refused(text: str) -> None:
    with pytest.raises(KeyPathError, match="expected"):
        parse_key_path(text)


def test_set_into_a_list_inside_a_mapping() -> None:
    doc = {"network": {"link-bandwidth": [25, 6.25], "units-count": [16, 16]}}
    assert set_path(doc, ("network", "link-bandwidth", 1), 12.5) is False
    assert doc == {"network": {"link-bandwidth": [25, 12.5], "units-count": [16, 16]}}
    assert get_path(doc, ("network", "link-bandwidth", -1)) == 12.5


def test_set_adds_a_key_and_missing_mappings() -> None:
    doc: dict = {"options": None}
    assert set_path(doc, ("options", "comm_scale"), 4) is True
    assert set_path(doc, ("extra", "deep", "key"), 1) is True
    assert doc == {"options": {"comm_scale": 4}, "extra": {"deep": {"key": 1}}}


def test_index_out_of_range_names_the_list_and_its_length() -> None:
    doc = {"net": {"bw": [1, 2]}}
    with pytest.raises(KeyPathError, match=r"index 2 is out of range; net.bw has 2 item"):
        set_path(doc, ("net", "bw", 2), 3)


def test_indexing_a_mapping_or_descending_into_a_value_is_refused() -> None:
    doc = {"net": {"bw": 5}}
    with pytest.raises(KeyPathError, match="net is a mapping, not a list"):
        set_path(doc, ("net", 0), 1)
    with pytest.raises(KeyPathError, match="net.bw is the value 5, not a mapping"):
        set_path(doc, ("net", "bw", "x"), 1)
