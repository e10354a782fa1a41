"""A corpus of hand-written broken rule-sets (``broken_cases.yaml``), each an edit of ``base/``.

For every case the library and the command line must agree: the loader raises
:class:`RuleSetError` with the exact ``file:line:col: key.path: problem`` messages and
``flowmatch check --rules DIR`` exits 2, or the rule-set loads and ``check`` reports the exact
findings and exits 1 (SPEC §8: 2 = bad input, 1 = findings).  Nothing ever ends in a traceback.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from flowmatch.checker import check
from flowmatch.cli import main
from flowmatch.errors import RuleSetError
from flowmatch.ruleset import load_ruleset

from ._support import BASE, apply_edits, copy_base, count

CORPUS = Path(__file__).parent / "broken_cases.yaml"
CASES: list[dict[str, Any]] = yaml.safe_load(CORPUS.read_text(encoding="utf-8"))["cases"]

# A follow-on problem: something refers to an entry or file that failed to load.
CASCADE = re.compile(
    r"^base/[^:]+:\d+:\d+: \S+: unknown (department|item|material|flowchart|situation|step|source|"
    r"category) '[^']*'; allowed: "
)
LOCATED = re.compile(r"^(base/[\w/.-]+\.yaml|\{root\}):\d+:\d+: ")


def _params() -> list[Any]:
    out = []
    for case in CASES:
        marks = [pytest.mark.xfail(strict=True, reason=case["xfail"])] if case.get("xfail") else []
        out.append(pytest.param(case, id=case["id"], marks=marks))
    return out


def _check_problems(case: dict[str, Any], got: list[str]) -> None:
    if "located" in case:
        # the refusal and its file:line are flowmatch's; the words may be a dependency's
        places = [re.match(r"^[^:]+:\d+:", p) for p in got]
        assert [m.group(0) if m else p for m, p in zip(places, got, strict=True)] == case["located"], got
        return
    expected = case["problems"]
    missing = [p for p in expected if p not in got]
    extra = [p for p in got if p not in expected]
    if case.get("cascade"):
        extra = [p for p in extra if not CASCADE.match(p)]
    shown = json.dumps(got, ensure_ascii=False, indent=1)
    assert (missing, extra) == ([], []), f"{case['id']}: problems differ\n got: {shown}"


def test_corpus_is_big_and_well_formed() -> None:
    ids = [c["id"] for c in CASES]
    assert len(ids) >= 30
    assert len(set(ids)) == len(ids), "duplicate case ids"
    for case in CASES:
        assert case["exit"] in (1, 2), case["id"]
        assert ("problems" in case or "located" in case) == (case["exit"] == 2), case["id"]
        assert ("findings" in case) == (case["exit"] == 1), case["id"]
        assert case.get("problems") or case.get("findings") or case.get("located"), f"{case['id']}: nothing expected"
        for message in case.get("problems", []):
            assert LOCATED.match(message), f"{case['id']}: {message!r} is not file:line:col"


def test_base_ruleset_is_valid() -> None:
    result = CliRunner().invoke(main, ["check", "--rules", str(BASE)])
    assert result.exit_code == 0, result.output
    assert "OK: complete and exclusive" in result.stdout
    assert check(ruleset=load_ruleset(BASE, cache=False)).ok


@pytest.mark.parametrize("case", _params())
def test_broken_ruleset(case: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    count("broken_ruleset")
    root = copy_base(tmp_path)
    apply_edits(root, case["edits"])
    monkeypatch.chdir(tmp_path)  # a payload such as `touch pwned` would land here

    # the library
    if case["exit"] == 2:
        with pytest.raises(RuleSetError) as err:
            load_ruleset(root, cache=False)
        got = [str(p).replace(str(root), "{root}") for p in err.value.problems]
        _check_problems(case, got)
    else:
        report = check(ruleset=load_ruleset(root, cache=False))
        got_findings = [{"kind": f.kind, "message": f.message, "example": f.example} for f in report.findings]
        assert got_findings == case["findings"]

    # the command line, with the on-disk cache in play (a cached broken rule-set must not mask errors)
    result = CliRunner().invoke(main, ["check", "--json", "--rules", str(root)])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    assert result.exit_code == case["exit"], result.output
    if case["exit"] == 2:
        lines = result.stderr.splitlines()
        assert re.fullmatch(r"error: \d+ problems? in the rule-set:", lines[0]), lines[0]
        shown = [line.replace(str(root), "{root}") for line in lines[1:]]
        _check_problems(case, shown)
        assert result.stdout == ""
    else:
        data = json.loads(result.stdout)
        assert data["ok"] is False
        assert [{k: f[k] for k in ("kind", "message", "example")} for f in data["findings"]] == case["findings"]
    assert not (tmp_path / "pwned").exists()


def test_every_problem_is_reported_at_once(base_copy: Path) -> None:
    """Edits in different files are all reported in one run, sorted by file and position."""
    by_id = {c["id"]: c for c in CASES}
    chosen = ["unknown_department", "unknown_step_in_depends_on", "eq_with_a_list", "unknown_issuer"]
    for cid in chosen:
        apply_edits(base_copy, by_id[cid]["edits"])
    with pytest.raises(RuleSetError) as err:
        load_ruleset(base_copy, cache=False)
    expected = sorted(p for cid in chosen for p in by_id[cid]["problems"])
    assert [str(p) for p in err.value.problems] == expected
    assert str(err.value).startswith("4 problems in the rule-set:\n")


def test_a_broken_attributes_file_does_not_hide_other_problems(base_copy: Path) -> None:
    by_id = {c["id"]: c for c in CASES}
    chosen = ["unknown_key_in_attribute", "unknown_department"]
    for cid in chosen:
        apply_edits(base_copy, by_id[cid]["edits"])
    with pytest.raises(RuleSetError) as err:
        load_ruleset(base_copy, cache=False)
    assert [str(p) for p in err.value.problems] == sorted(p for cid in chosen for p in by_id[cid]["problems"])
