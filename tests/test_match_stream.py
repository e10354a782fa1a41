"""`flowmatch match -` (JSON Lines) answers every line exactly as matching that profile alone does:
random distinct profiles, complete and partial, with flags and with bad values, fixed seed."""

from __future__ import annotations

import io
import json
import random
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from flowmatch import cli
from flowmatch.cli import _match_stream, main
from flowmatch.matcher import Matcher, ResultLines
from flowmatch.ruleset import RuleSet, default_ruleset


def _profiles(rs: RuleSet, count: int, seed: int = 18) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    attrs = {a: list(x.values) for a, x in rs.attributes.items()}
    flags = sorted(rs.flags)
    seen: set[str] = set()
    out: list[dict[str, Any]] = []
    while len(out) < count:
        complete = rng.random() < 0.5
        profile: dict[str, Any] = {a: rng.choice(v) for a, v in attrs.items() if complete or rng.random() < 0.6}
        roll = rng.random()
        if flags and roll < 0.1:
            profile[rng.choice(flags)] = rng.choice([True, False, "是"])
        elif roll < 0.13:
            profile[rng.choice(list(attrs))] = "no-such-value"
        elif roll < 0.15:
            profile["no_such_attribute"] = 1
        text = json.dumps(profile, ensure_ascii=False, sort_keys=True)
        if text not in seen:
            seen.add(text)
            out.append(profile)
    return out


def _expected(rs: RuleSet, profiles: list[dict[str, Any]]) -> list[str]:
    alone = Matcher(rs)  # a fresh matcher: nothing remembered from the batch
    return [
        json.dumps({"line": n, **alone.match(p).to_dict()}, ensure_ascii=False) + "\n"
        for n, p in enumerate(profiles, start=1)
    ]


def test_stream_output_is_identical_to_matching_each_profile() -> None:
    rs = default_ruleset()
    profiles = _profiles(rs, 4000)
    statuses = {Matcher(rs).match(p).status for p in profiles}
    assert statuses == {"matched", "incomplete", "not_applicable", "invalid"}
    source = [json.dumps(p, ensure_ascii=False).encode() + b"\n" for p in profiles]
    sink = io.StringIO()
    _match_stream(Matcher(rs), source, sink)
    assert sink.getvalue().splitlines(keepends=True) == _expected(rs, profiles)


def test_stream_repeats_and_reorders_give_the_same_lines() -> None:
    rs = default_ruleset()
    profiles = _profiles(rs, 500, seed=3)
    twice = profiles + list(reversed(profiles))  # the second half is answered from what the first built
    source = [json.dumps(p, ensure_ascii=False) + "\n" for p in twice]
    sink = io.StringIO()
    _match_stream(Matcher(rs), source, sink)
    assert sink.getvalue().splitlines(keepends=True) == _expected(rs, twice)


def test_result_lines_encode_like_json_dumps() -> None:
    rs = default_ruleset()
    matcher = Matcher(rs)
    lines = ResultLines()
    for n, p in enumerate(_profiles(rs, 300, seed=9), start=1):
        result = matcher.match(p)
        assert lines.line(n, result) == json.dumps({"line": n, **result.to_dict()}, ensure_ascii=False) + "\n"


def test_cli_stream_matches_the_library(tmp_path: Any) -> None:
    rs = default_ruleset()
    profiles = _profiles(rs, 200, seed=5)
    text = "".join(json.dumps(p, ensure_ascii=False) + "\n" for p in profiles)
    done = CliRunner().invoke(main, ["match", "-"], input=text)
    assert done.output.splitlines(keepends=True) == _expected(rs, profiles)


class _LineReader:
    """A stream that can only be read line by line (``readline``): the path every stream took
    before reads came in blocks."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readline(self, size: int = -1) -> bytes:
        return self._data.readline(size)


class _Trickle(io.RawIOBase):
    """A pipe that hands over at most ``size`` bytes a read, as a slow producer does."""

    def __init__(self, data: bytes, size: int) -> None:
        self._data, self._size, self._at = data, size, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        piece = self._data[self._at : self._at + min(self._size, len(buffer))]
        buffer[: len(piece)] = piece
        self._at += len(piece)
        return len(piece)


_PIECES = st.sampled_from(
    [
        b'{"kind": "road_bridge"}',
        b'{"kind": "building", "land_nature": "collective"}',
        b'{"kind": "pipeline", "removes_trees": true}',
        b'{"kind": "nope"}',
        b"[1, 2]",
        b"not json",
        b"   ",
        b"",
        b"\xff\xfe",
        '{"kind": "station", "note": "中文"}'.encode(),
        b'{"kind": "road_bridge"}\r',
        b"x" * 70,  # longer than the limit the test sets (50 bytes)
        b"y" * 40,
        b"a" * 50,  # at the limit
        b"b" * 51,  # one byte over
        b"c" * 50 + b"\r",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_PIECES, max_size=12), st.booleans(), st.integers(1, 64))
def test_reading_in_blocks_answers_as_reading_line_by_line(pieces: list[bytes], final_newline: bool, size: int) -> None:
    """Blocks of any size (a line split across reads, a long line across many) give exactly the
    lines, numbers, limits and answers of reading one line at a time."""
    rs = default_ruleset()
    data = b"\n".join(pieces) + (b"\n" if final_newline and pieces else b"")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(cli, "MAX_LINE", 50)
        by_line, in_blocks = io.StringIO(), io.StringIO()
        bad_by_line = _match_stream(Matcher(rs), _LineReader(data), by_line)
        stream = io.BufferedReader(_Trickle(data, size))
        bad_in_blocks = _match_stream(Matcher(rs), stream, in_blocks)
    assert in_blocks.getvalue() == by_line.getvalue()
    assert bad_in_blocks == bad_by_line


def test_a_long_line_across_many_reads_is_refused_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "MAX_LINE", 50)
    data = b'{"kind": "road_bridge"}\n' + b"z" * 500 + b'\n{"kind": "station"}\n' + b"w" * 51
    sink = io.StringIO()
    assert _match_stream(Matcher(default_ruleset()), io.BufferedReader(_Trickle(data, 8)), sink) == 2
    out = [json.loads(line) for line in sink.getvalue().splitlines()]
    assert [o["line"] for o in out] == [1, 2, 3, 4]
    assert [o["status"] for o in out] == ["matched", "invalid", "matched", "invalid"]
    assert out[1]["error"] == out[3]["error"] == "line is longer than 50 bytes; one profile is a few hundred"


def test_a_leaf_reached_before_gives_the_line_of_the_derived_result() -> None:
    """The batch's short cut (Matcher.leaf_parts, ResultLines.derived_line) writes exactly the line
    of the result match() derives, and is taken only for plain profiles whose leaf was reached."""
    rs = default_ruleset()
    warm, alone, lines = Matcher(rs), Matcher(rs), ResultLines()
    profiles = _profiles(rs, 3000, seed=21)
    taken = 0
    for n, p in enumerate(profiles, start=1):
        before = warm.leaf_parts(p)
        result = warm.match(p)
        expected = json.dumps({"line": n, **alone.match(p).to_dict()}, ensure_ascii=False) + "\n"
        assert lines.line(n, result) == expected
        parts = warm.leaf_parts(p)
        plain = all(a in rs.attributes and v in rs.attributes[a].values for a, v in p.items())
        if not plain:  # flags, unknown keys or values: always match()
            assert before is None and parts is None
            continue
        if parts is None:  # a question on its path unanswered: match() answers
            assert any(a not in p for a in rs.attributes)
            continue
        taken += before is not None
        assert lines.derived_line(n, *parts) == expected
    assert taken > 1000
