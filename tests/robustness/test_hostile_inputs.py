"""Hand-picked hostile inputs that fuzzing is unlikely to find: pathological nesting, huge lines,
bytes that are not UTF-8, JSON's non-standard constants, very long dependency chains, and a
poisoned rule-set cache.  Each one must end in a located message or a per-line ``invalid``
result — never a traceback, a crash of the interpreter, or code run from data."""

from __future__ import annotations

import json
import os
import pickle
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from flowmatch import rulecache as ruleset_module
from flowmatch.cli import main
from flowmatch.ruleset import load_ruleset
from flowmatch.scheduler import schedule

from ._support import BASE, apply_edits, copy_base

ROAD = '{"kind": "road"}'


def _batch(source: str) -> tuple[int, list[dict[str, Any]]]:
    result = CliRunner().invoke(main, ["match", "--rules", str(BASE), "-"], input=source)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result.exit_code, [json.loads(line) for line in result.stdout.split("\n") if line]


def _strict_json(text: str) -> Any:
    def refuse(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")

    return json.loads(text, parse_constant=refuse)


def _flowmatch(*args: str, stdin: bytes = b"", env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "flowmatch.cli", *args],
        input=stdin,
        capture_output=True,
        timeout=120,
        env={**os.environ, **(env or {})},
        check=False,
    )


# --- JSON Lines -------------------------------------------------------------------------------------------
def test_batch_with_crlf_blank_lines_huge_lines_and_repeats() -> None:
    huge = json.dumps({"kind": "road", "note": "长" * 2_000_000}, ensure_ascii=False)
    source = "\r\n".join([ROAD, "", "   ", huge, ROAD, "{oops", ROAD]) + "\r\n"
    code, out = _batch(source)
    assert code == 2
    assert [o["line"] for o in out] == [1, 4, 5, 6, 7]
    assert [o["status"] for o in out] == ["matched", "invalid", "matched", "invalid", "matched"]
    assert out[1]["error"] == "line is longer than 1048576 bytes; one profile is a few hundred"
    assert out[3]["error"].startswith("line is not valid JSON: ")
    assert out[0] == {**out[2], "line": 1} == {**out[4], "line": 1}


def test_batch_survives_a_deeply_nested_line() -> None:
    code, out = _batch("\n".join([ROAD, "[" * 100_000 + "]" * 100_000, ROAD]) + "\n")
    assert [o["line"] for o in out] == [1, 2, 3]
    assert out[1]["status"] == "invalid" and out[1]["error"].startswith("line is not valid JSON: ")
    assert code == 2


def test_batch_output_is_strict_json_even_for_nan() -> None:
    result = CliRunner().invoke(
        main, ["match", "--rules", str(BASE), "-"], input='{"kind": NaN}\n{"kind": Infinity}\n' + ROAD + "\n"
    )
    lines = [line for line in result.stdout.split("\n") if line]
    assert len(lines) == 3
    for line in lines:
        _strict_json(line)


def test_batch_reports_a_line_that_is_not_utf8() -> None:
    stdin = ROAD.encode() + b"\n" + b'{"kind": "\xff\xfe"}\n' + ROAD.encode() + b"\n"
    proc = _flowmatch("match", "--rules", str(BASE), "-", stdin=stdin, env={"PYTHONIOENCODING": "utf-8:strict"})
    out = [json.loads(line) for line in proc.stdout.decode("utf-8").splitlines()]
    assert [o["line"] for o in out] == [1, 2, 3]
    assert [o["status"] for o in out] == ["matched", "invalid", "matched"]
    assert proc.returncode == 2


# --- rule-sets ----------------------------------------------------------------------------------------------
def test_pathological_nesting_is_refused_without_crashing_the_interpreter(tmp_path: Path) -> None:
    """libyaml's composer recurses in C; a million nested '[' used to end in SIGSEGV."""
    root = copy_base(tmp_path)
    apply_edits(root, [{"file": "departments.yaml", "repeat": {"head": "x: ", "unit": "[", "count": 1_000_000}}])
    proc = _flowmatch("check", "--rules", str(root), env={"FLOWMATCH_CACHE_DIR": str(tmp_path / "cache")})
    assert proc.returncode == 2, proc.stderr[-2000:]
    # refused at the file and line (which guard's words: flowmatch's or PyYAML's own limit)
    assert re.search(r"^base/departments\.yaml:1:\d+: ", proc.stderr.decode(), re.MULTILINE), proc.stderr[-2000:]
    assert b"Traceback" not in proc.stderr


def test_a_long_chain_of_optional_steps_resolves(tmp_path: Path) -> None:
    root = copy_base(tmp_path)
    optional = "when: {eq: {removes_trees: true}}"
    steps = [f"  s0: {{item: P1, {optional}}}\n"]
    steps += [f"  s{i}: {{item: P1, depends_on: [s{i - 1}], {optional}}}\n" for i in range(1, 2000)]
    steps += ["  planning: {item: P2, depends_on: [s1999]}\n", "  permit: {item: P3, depends_on: [planning]}\n"]
    text = "name: 长链\nname_en: Long chain\ncategory: beta\nsource: [seed]\nsteps:\n" + "".join(steps)
    apply_edits(root, [{"file": "flowcharts/F02.yaml", "text": text}])
    rs = load_ruleset(root, cache=False)
    plan = schedule("F02", None, ruleset=rs)  # removes_trees is off: all 2,000 steps drop out
    assert [s.id for s in plan.steps] == ["planning", "permit"]


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX ownership and permission bits")
def test_a_cache_others_can_write_is_never_unpickled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = copy_base(tmp_path)
    cache = tmp_path / "shared-cache"
    cache.mkdir()
    cache.chmod(0o777)  # e.g. FLOWMATCH_CACHE_DIR=/tmp/flowmatch on a shared machine
    monkeypatch.setenv("FLOWMATCH_CACHE_DIR", str(cache))
    marker = tmp_path / "code-ran"

    class Payload:
        def __reduce__(self) -> tuple[Any, tuple[str]]:
            return (Path.touch, (str(marker),))  # type: ignore[return-value]

    digest = ruleset_module._digest(root.resolve())
    (cache / f"{digest}.pickle").write_bytes(pickle.dumps(Payload()))
    rs = load_ruleset(root)
    assert len(rs.situations) == 3
    assert not marker.exists(), "a pickle planted in the cache directory was executed"
