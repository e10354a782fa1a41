"""`flowmatch match -` (JSON Lines) answers every line exactly as matching that profile alone does:
random distinct profiles, complete and partial, with flags and with bad values, fixed seed."""

from __future__ import annotations

import io
import json
import random
from typing import Any

from click.testing import CliRunner

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
