"""Issue 20, cases 5 and 6: ``match -`` holds bounded memory and writes strict JSON.

One output line per non-blank input line, always valid UTF-8 and RFC 8259 JSON (no ``NaN`` or
``Infinity``, no lone surrogates), whatever came in: surrogate escapes, numbers out of range,
control characters, lines of a megabyte and more.  ``MatchResult.to_dict()`` never holds a
non-finite number either.
"""

from __future__ import annotations

import io
import json
import math
import os
import subprocess
import sys
import tracemalloc
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from flowmatch import cli
from flowmatch.matcher import matcher_for
from flowmatch.ruleset import load_ruleset

from ._support import BASE, count, fuzz

RS = load_ruleset(BASE, cache=False)
MATCHER = matcher_for(RS)
ROAD = '{"kind": "road"}'


def _strict(line: bytes) -> Any:
    def refuse(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")

    text = line.decode("utf-8")  # strict: a lone surrogate cannot have been encoded
    return json.loads(text, parse_constant=refuse)


def _run(source: bytes) -> tuple[int, list[Any]]:
    sink = io.TextIOWrapper(io.BytesIO(), encoding="ascii")  # the sink's own encoding must not matter
    bad = cli._match_stream(MATCHER, io.BytesIO(source), sink)
    sink.flush()
    raw = sink.buffer.getvalue()  # type: ignore[attr-defined]
    return bad, [_strict(line) for line in raw.split(b"\n") if line]


# --- 6. always strict JSON ----------------------------------------------------------------------------------
HOSTILE = [
    '{"kind": "\\ud800"}',  # a lone high surrogate as a value
    '{"\\udc80": "x"}',  # a lone low surrogate as a key
    '{"kind": 1e999}',  # a float out of range: Python reads it as inf
    '{"kind": -1e999}',
    '{"kind": [1e400, NaN]}',
    '{"kind": "😀", "x": "\\ud83d\\ude00"}',  # a proper surrogate pair is fine
    '{"kind": "\\u0000\\u001b[31m"}',  # control characters
    '{"kind": ' + "9" * 5000 + "}",  # beyond Python's integer digits limit
]


def test_hostile_lines_each_get_one_strict_json_line() -> None:
    source = "\n".join([ROAD, *HOSTILE, ROAD]).encode("utf-8")
    bad, out = _run(source)
    assert [o["line"] for o in out] == list(range(1, len(HOSTILE) + 3))
    assert out[0]["status"] == out[-1]["status"] == "matched"
    assert all(o["status"] == "invalid" for o in out[1:-1])
    assert out[1]["error"] == "line is not valid JSON: text with a lone surrogate (such as \\ud800) is not Unicode"
    assert out[3]["error"] == "line is not valid JSON: number 1e999 is out of range"
    assert bad == len(HOSTILE)


def test_surrogates_and_huge_numbers_through_the_command() -> None:
    """The real process with a strict UTF-8 stdout: no traceback, no line lost."""
    source = "\n".join([*HOSTILE, ROAD]).encode("utf-8") + b"\n"
    proc = subprocess.run(
        [sys.executable, "-m", "flowmatch.cli", "match", "--rules", str(BASE), "-"],
        input=source,
        capture_output=True,
        timeout=120,
        check=False,
        env={**os.environ, "PYTHONIOENCODING": "ascii:strict"},
    )
    assert b"Traceback" not in proc.stderr, proc.stderr.decode("utf-8", "replace")
    out = [_strict(line) for line in proc.stdout.splitlines()]
    assert [o["line"] for o in out] == list(range(1, len(HOSTILE) + 2))
    assert out[-1]["status"] == "matched"
    assert proc.returncode == 2


def test_to_dict_never_holds_nan_or_infinity() -> None:
    for value in (math.nan, math.inf, -math.inf):
        result = MATCHER.match({"kind": value, "other": value})
        data = result.to_dict()
        json.dumps(data, allow_nan=False)
        assert data["status"] == "invalid"


# --- 5. bounded memory ------------------------------------------------------------------------------------------
def test_a_line_over_the_limit_is_refused_alone() -> None:
    huge = json.dumps({"kind": "road", "note": "x" * (cli.MAX_LINE + 10)})
    bad, out = _run("\n".join([ROAD, huge, ROAD]).encode("utf-8"))
    assert [o["line"] for o in out] == [1, 2, 3]
    assert out[1] == {
        "line": 2,
        "status": "invalid",
        "error": "line is longer than 1048576 bytes; one profile is a few hundred",
    }
    assert out[0]["status"] == out[2]["status"] == "matched" and bad == 1


def test_distinct_big_lines_are_not_remembered() -> None:
    """300 distinct lines of 100 kB each (30 MB in all): the batch's memory stays far below that."""
    lines = (json.dumps({"kind": "road", "note": f"{i:06d}" + "x" * 100_000}) + "\n" for i in range(300))

    class Source:
        def __init__(self) -> None:
            self.pending = b""

        def readline(self, limit: int) -> bytes:
            if not self.pending:
                self.pending = next(lines, "").encode("utf-8")
            out, self.pending = self.pending[:limit], self.pending[limit:]
            return out

    tracemalloc.start()
    try:
        bad = cli._match_stream(MATCHER, Source(), _Discard())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert bad == 300
    assert peak < 10_000_000, peak


class _Discard:
    def write(self, text: str) -> int:
        return len(text)


def test_repeated_short_lines_are_still_answered_from_memory() -> None:
    bad, out = _run(("\n".join([ROAD] * 50) + "\n").encode("utf-8"))
    assert bad == 0 and [o["line"] for o in out] == list(range(1, 51))
    assert all({**o, "line": 1} == out[0] for o in out)


# --- the fuzz run the issue asks for ---------------------------------------------------------------------------
_pieces = st.one_of(
    st.sampled_from(
        [
            ROAD,
            *HOSTILE,
            '{"kind": "\ud800"}',
            '{"kind": "road", "removes_trees": "true"}',
            "{",
            "[]",
            "null",
            '"x"',
            "1e999",
            '{"kind": 1e308}',
            '{"kind": 123456789012345678901234567890}',
        ]
    ),
    st.text(alphabet=st.characters(codec=None, exclude_characters="\n\r"), max_size=40),
    st.builds(lambda s: json.dumps({"kind": s}), st.text(max_size=20)),
    st.builds(lambda n: json.dumps({"kind": "road", "pad": "y" * n}), st.sampled_from([10, 1_000_000, 1_100_000])),
)


def _answered(line: bytes) -> bool:
    try:
        return bool(line.decode("utf-8").strip())
    except UnicodeDecodeError:
        return True  # reported as not UTF-8


@fuzz(200)
@given(lines=st.lists(_pieces, min_size=1, max_size=8))
def test_fuzzed_batches_answer_every_line_with_strict_json(lines: list[str]) -> None:
    count("fuzz:json_lines_round_two")
    encoded = [line.encode("utf-8", "surrogatepass") for line in lines]
    bad, out = _run(b"\n".join(encoded) + b"\n")
    expected = [i for i, line in enumerate(encoded, start=1) if _answered(line)]
    assert [o["line"] for o in out] == expected
    assert bad == sum(o["status"] == "invalid" for o in out)
