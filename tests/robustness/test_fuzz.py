"""Hypothesis fuzzing with a bounded, reproducible budget.

Hostile or careless input — arbitrary strings, unicode, huge values, nested structures, missing
keys, things that are not mappings at all — must only ever produce the documented statuses
(``invalid`` / ``incomplete`` / ``matched`` / ``not_applicable``) or a typed
:class:`~flowmatch.errors.FlowmatchError`; never an unhandled exception, never one project's input
leaking into another's answer.

Every test is ``derandomize=True`` with no example database, so CI runs the same examples every
time; ``FLOWMATCH_FUZZ_SCALE`` multiplies the budget for a longer local run.  The number of
examples actually run is counted and printed at the end of the session (see ``conftest.py``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
import random
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from flowmatch.calendar import WorkCalendar
from flowmatch.checker import check
from flowmatch.cli import MAX_LINE, main
from flowmatch.errors import CalendarError, FlowmatchError, InputError, RuleSetError
from flowmatch.matcher import Matcher, MatchResult, matcher_for
from flowmatch.ruleset import RuleSet, default_ruleset, load_ruleset
from flowmatch.scheduler import MODES, critical_path_method, schedule
from flowmatch.yamlsrc import MAX_DEPTH, YamlError, parse_text

from ._support import BASE, apply_edits, copy_base, count, fuzz

STATUSES = {"matched", "incomplete", "not_applicable", "invalid"}


RS: RuleSet = load_ruleset(BASE, cache=False)
ATTRIBUTES = {a: list(attr.values) for a, attr in RS.attributes.items()}
FLAGS = list(RS.flags)

# --- strategies -------------------------------------------------------------------------------------
text = st.text(max_size=40)
huge_text = st.builds(lambda ch, n: ch * n, st.characters(), st.integers(10_000, 300_000))
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    text,
    huge_text,
    st.sampled_from(["", " ", "true", "false", "是", "否", "unsure", "null", "0", "1"]),
)
nested = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4), max_leaves=12
)
keys = st.one_of(
    st.sampled_from([*ATTRIBUTES, *FLAGS]),
    text,
    st.integers(),
    st.none(),
    st.booleans(),
    st.tuples(st.integers()),
    st.frozensets(st.integers(), max_size=2),
    st.binary(max_size=8),
)
known_value = st.sampled_from([v for values in ATTRIBUTES.values() for v in values])
values = st.one_of(known_value, known_value, scalars, nested)
profiles = st.one_of(
    st.dictionaries(keys, values, max_size=8),
    # well-formed partial profiles (the interesting part of the space)
    st.fixed_dictionaries({}, optional={a: st.sampled_from(v) for a, v in ATTRIBUTES.items()}),
    st.fixed_dictionaries(
        {},
        optional={
            **{a: st.sampled_from(v) for a, v in ATTRIBUTES.items()},
            **{f: st.one_of(st.booleans(), text) for f in FLAGS},
        },
    ),
)
not_mappings = st.one_of(
    scalars, st.lists(st.tuples(text, text), max_size=3), st.sets(st.integers(), max_size=3), st.tuples(text)
)


def _reference(rs: RuleSet, profile: Mapping[str, str]) -> tuple[str, str | None]:
    """What the matcher must answer for a well-formed profile, from the conditions directly."""
    holding = [
        rid for rid, rule in [*rs.situations.items(), *rs.not_applicable.items()] if rule.when.holds(profile) is True
    ]
    if not holding:
        return "incomplete", None
    assert len(holding) == 1, holding  # the rule-set is exclusive (`flowmatch check`)
    rid = holding[0]
    return ("matched" if rid in rs.situations else "not_applicable"), rid


def _json_safe(result: MatchResult) -> None:
    json.dumps(result.to_dict(), ensure_ascii=False)


def _as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        word = value.strip().lower()
        return (
            True
            if word in {"true", "yes", "1", "y", "是", "on"}
            else False
            if word in {"false", "no", "0", "n", "否", "off"}
            else None
        )
    return None


def _split(rs: RuleSet, profile: Mapping[Any, Any]) -> tuple[dict[str, str], bool]:
    """The documented validation rules: (the attribute answers, whether anything is invalid).
    Empty answers (None, "") count as not given; flags take booleans or yes/no words."""
    answers: dict[str, str] = {}
    bad = False
    for key, value in profile.items():
        if isinstance(key, str) and key in rs.attributes:
            if value is None or value == "":
                continue
            if isinstance(value, str) and value in rs.attributes[key].values:
                answers[key] = value
            else:
                bad = True
        elif isinstance(key, str) and key in rs.flags:
            bad |= _as_bool(value) is None
        else:
            bad = True
    return answers, bad


def _check_match(rs: RuleSet, profile: Any) -> None:
    before = repr(profile)[:10_000]
    result = matcher_for(rs).match(profile)
    assert result.status in STATUSES
    assert repr(profile)[:10_000] == before, "the matcher changed the caller's profile"
    _json_safe(result)
    assert result.explanation, "every result explains itself"
    answers, bad = _split(rs, profile)
    if bad:
        assert result.status == "invalid" and result.invalid
        return
    assert result.status != "invalid", result.explanation
    status, rid = _reference(rs, answers)
    assert result.status == status
    if status == "matched":
        assert result.situation == rid and result.flowchart == rs.situations[rid].flowchart
    elif status == "not_applicable":
        assert result.rule == rid and result.reason
    else:
        assert result.missing and set(result.missing) <= set(rs.attributes) - set(answers)


# --- matcher --------------------------------------------------------------------------------------------
@fuzz(600)
@given(profile=profiles)
def test_matcher_only_returns_documented_statuses(profile: dict[Any, Any]) -> None:
    count("fuzz:matcher")
    _check_match(RS, profile)


def _packaged() -> RuleSet:
    try:
        return default_ruleset()  # loaded once per process, with its compiled matcher
    except RuleSetError as exc:  # the packaged data is edited by others; base/ covers the matcher
        pytest.skip(f"the packaged rule-set does not load: {str(exc).splitlines()[0]}")


@st.composite
def packaged_profiles(draw: st.DrawFn) -> dict[Any, Any]:
    rs = _packaged()
    chosen = draw(st.lists(st.sampled_from(list(rs.attributes)), unique=True, max_size=len(rs.attributes)))
    profile: dict[Any, Any] = {a: draw(st.sampled_from(list(rs.attributes[a].values))) for a in chosen}
    if draw(st.booleans()):
        profile.update(draw(st.dictionaries(keys, values, max_size=2)))
    return profile


@fuzz(300)
@given(profile=packaged_profiles())
def test_matcher_on_the_packaged_ruleset(profile: dict[Any, Any]) -> None:
    count("fuzz:matcher")
    _check_match(_packaged(), profile)


def test_matcher_answers_as_soon_as_the_answers_decide(tmp_path: Path) -> None:
    """SPEC §3: an attribute is asked only where it can change the answer.  Here regime=verification
    alone makes a building not applicable, whoever invests; the questionnaire agrees."""
    root = copy_base(tmp_path)
    apply_edits(
        root,
        [
            {
                "file": "attributes.yaml",
                "old": "    asked_when: {eq: {kind: building, investor: enterprise}}\n",
                "new": "    asked_when: {eq: {kind: building}}\n",
            },
            {
                "file": "situations.yaml",
                "old": "      eq: {kind: building, investor: government}\n",
                "new": "      eq: {kind: building, investor: government, regime: filing}\n",
            },
            {
                "file": "situations.yaml",
                "old": "      eq: {kind: building, investor: enterprise, regime: verification}\n",
                "new": "      eq: {kind: building, regime: verification}\n",
            },
        ],
    )
    rs = load_ruleset(root, cache=False)
    assert check(ruleset=rs).ok
    profile = {"kind": "building", "regime": "verification"}
    wizard = pytest.importorskip("flowmatch.wizard")
    assert wizard.next_question(profile, ruleset=rs).status == "not_applicable"
    result = matcher_for(rs).match(profile)
    assert (result.status, result.rule) == ("not_applicable", "NA01")


@fuzz(300)
@given(profile=not_mappings)
def test_matcher_refuses_what_is_not_a_mapping(profile: Any) -> None:
    count("fuzz:matcher")
    result = matcher_for(RS).match(profile)
    assert result.status == "invalid"
    assert result.explanation[0].startswith("a profile is a mapping of attribute to value, got ")
    _json_safe(result)


@fuzz(200)
@given(history=st.lists(profiles, min_size=1, max_size=6), probe=profiles)
def test_no_answer_leaks_from_one_project_into_another(history: list[Any], probe: Any) -> None:
    """A long-lived matcher (the web app's, the batch's) answers exactly like a fresh one, whatever
    it was asked before: caches must never carry one project's answers into the next."""
    count("fuzz:matcher")
    shared = matcher_for(RS)
    for profile in history:
        shared.match(profile)
    assert shared.match(probe).to_dict() == Matcher(RS).match(probe).to_dict()


# --- wizard ---------------------------------------------------------------------------------------------
@fuzz(300)
@given(
    answers=st.one_of(
        profiles, not_mappings, st.dictionaries(st.sampled_from(list(ATTRIBUTES)), st.just("unsure"), max_size=3)
    )
)
def test_wizard_only_asks_or_ends(answers: Any) -> None:
    wizard = pytest.importorskip("flowmatch.wizard")
    count("fuzz:wizard")
    step = wizard.next_question(answers, ruleset=RS)
    json.dumps(step.to_dict(), ensure_ascii=False)
    if isinstance(step, wizard.Question):
        assert step.attribute in ATTRIBUTES
        assert isinstance(answers, Mapping) and answers.get(step.attribute) in (None, "")
        assert set(step.values) == set(ATTRIBUTES[step.attribute])
    else:
        assert isinstance(step, wizard.Outcome)
        assert step.status in {"matched", "not_applicable", "undetermined", "invalid"}
        assert step.explanation


@fuzz(150)
@given(profile=st.fixed_dictionaries({a: st.sampled_from(v) for a, v in ATTRIBUTES.items()}))
def test_wizard_walk_agrees_with_the_matcher(profile: dict[str, str]) -> None:
    wizard = pytest.importorskip("flowmatch.wizard")
    count("fuzz:wizard")
    asked, end = wizard.wizard_for(RS).run(profile)
    assert len(asked) <= len(ATTRIBUTES)
    assert isinstance(end, wizard.Outcome)
    expected = matcher_for(RS).match(profile)
    assert end.status == expected.status
    assert end.result is not None and end.result.situation == expected.situation and end.result.rule == expected.rule


# --- scheduler ------------------------------------------------------------------------------------------
@st.composite
def dags(draw: st.DrawFn) -> tuple[list[list[int]], list[float]]:
    n = draw(st.integers(0, 25))
    preds = [sorted(draw(st.sets(st.integers(0, i - 1), max_size=4))) if i else [] for i in range(n)]
    weights = draw(st.lists(st.one_of(st.integers(0, 60).map(float), st.floats(0, 1e6)), min_size=n, max_size=n))
    return preds, weights


@fuzz(300)
@given(dag=dags())
def test_critical_path_method_on_random_dags(dag: tuple[list[list[int]], list[float]]) -> None:
    count("fuzz:scheduler")
    preds, weights = dag
    n = len(weights)
    p = critical_path_method(preds, weights)
    tol = 1e-6 * (1 + sum(weights))
    children: list[list[int]] = [[] for _ in range(n)]
    for i, ps in enumerate(preds):
        for q in ps:
            children[q].append(i)
    for i in range(n):
        assert p.es[i] == max((p.ef[q] for q in preds[i]), default=0.0)
        assert p.ef[i] == p.es[i] + weights[i]
        assert p.lf[i] == pytest.approx(min((p.ls[c] for c in children[i]), default=p.total), abs=tol)
        assert p.ls[i] == pytest.approx(p.lf[i] - weights[i], abs=tol)
        assert p.ls[i] >= p.es[i] - tol, "negative slack"
        assert p.level[i] == max((p.level[q] + 1 for q in preds[i]), default=0)
    graph = nx.DiGraph()
    graph.add_nodes_from(range(n))
    graph.add_node("end")
    for i in range(n):
        graph.add_edge(i, "end", w=weights[i])
        for q in preds[i]:
            graph.add_edge(q, i, w=weights[q])
    longest = nx.dag_longest_path_length(graph, weight="w") if n else 0.0
    assert p.total == pytest.approx(longest, abs=tol)
    if n:  # a zero-slack chain from a source to a sink carries the whole length
        critical = [i for i in range(n) if abs(p.ls[i] - p.es[i]) <= tol]
        assert any(p.ef[i] == pytest.approx(p.total, abs=tol) for i in critical)
        assert any(not preds[i] for i in critical)


FLOWCHART_IDS = [*RS.flowcharts, "baseline"]
iso_dates = st.dates(dt.date(1990, 1, 1), dt.date(2035, 12, 31))
starts = st.one_of(
    st.none(),
    iso_dates,
    st.dates(),
    iso_dates.map(dt.date.isoformat),
    st.dates().map(dt.date.isoformat),
    text,
    st.sampled_from(["2026-02-30", "2026-13-01", "20260101", "2026-W01-1", " 2026-01-01", "0000-01-01"]),
)


@fuzz(400)
@given(
    flowchart=st.one_of(st.sampled_from(FLOWCHART_IDS), text),
    start=starts,
    mode=st.one_of(st.sampled_from(MODES), text),
    assume=st.one_of(st.none(), st.booleans()),
    flags=st.dictionaries(st.one_of(st.sampled_from(FLAGS), text), st.one_of(st.booleans(), scalars), max_size=3),
    variants=st.dictionaries(text, text, max_size=2),
)
def test_schedule_raises_only_typed_errors(
    flowchart: str, start: Any, mode: str, assume: bool | None, flags: dict[str, Any], variants: dict[str, str]
) -> None:
    count("fuzz:scheduler")
    calendar = None if assume is None else WorkCalendar(assume_weekends=assume)
    try:
        plan = schedule(flowchart, start, calendar, mode, ruleset=RS, flags=flags, variants=variants)
    except FlowmatchError as exc:
        assert str(exc)
        return
    data = plan.to_dict()
    json.dumps(data, allow_nan=False)
    assert plan.working_days <= plan.elapsed_working_days
    if plan.start is None:
        assert plan.finish is None and all(s.start is None for s in plan.steps)
        return
    cal = calendar or WorkCalendar()
    assert plan.finish is not None
    for year in _years_after(plan.start, plan.finish):
        if not cal.covers(year):  # never a silent guess: assumed or estimated, always said and marked
            said = "no holiday data for" if cal.assume_weekends else "holiday arrangements are not yet published"
            assert any(f"{year}" in w and said in w for w in plan.warnings)
            assert plan.is_estimated(plan.finish)
    for step in plan.steps:
        if step.end is not None and step.duration > 0:
            assert cal.is_workday(step.end)


# --- calendar ---------------------------------------------------------------------------------------------
def _years_after(start: dt.date, end: dt.date) -> range:
    """The years of the days counted after day 0 (day 0 itself is the acceptance day)."""
    return range((start + dt.timedelta(days=1)).year, end.year + 1) if end > start else range(0)


@fuzz(300)
@given(
    start=st.one_of(iso_dates, st.dates(), st.datetimes(dt.datetime(1990, 1, 1), dt.datetime(2035, 1, 1))),
    days=st.one_of(
        st.integers(0, 3000), st.floats(0, 3000), st.floats(), st.sampled_from([-1, -0.5, 100_001, 10**7, 10**12])
    ),
    assume=st.booleans(),
)
def test_calendar_never_silently_assumes_mon_to_fri(start: dt.date, days: float, assume: bool) -> None:
    count("fuzz:calendar")
    cal = WorkCalendar(assume_weekends=assume)
    try:
        end = cal.add(start, days)
    except (CalendarError, InputError) as exc:
        assert str(exc)
        if isinstance(exc, InputError):
            assert not (math.isfinite(days) and days >= 0)
        return
    day0 = start.date() if isinstance(start, dt.datetime) else start
    assert type(end) is dt.date
    assert cal.between(day0, end) == math.ceil(days - 1e-9)
    if end > day0:
        assert cal.is_workday(end)
    for year in _years_after(day0, end):
        if not cal.covers(year):  # never a silent guess: assumed or estimated, always said and marked
            said = "no holiday data for" if assume else "holiday arrangements are not yet published"
            assert any(f"{year}" in w and said in w for w in cal.assumptions(day0, end))
            boundary = cal.estimated_from(day0)
            assert boundary is not None and end >= boundary


# --- YAML reader --------------------------------------------------------------------------------------------
TOKENS = [
    "a",
    "b",
    "key: ",
    ": ",
    ":",
    "- ",
    "[",
    "]",
    "{",
    "}",
    ", ",
    "\n",
    "  ",
    "\t",
    "&x ",
    "*x",
    "&y ",
    "*y",
    "!!python/object/apply:os.system ",
    "!!python/name:os.system ",
    "!!str ",
    "!!binary ",
    "!!set ",
    "!custom ",
    "<<: ",
    "---\n",
    "...\n",
    "? ",
    "'",
    '"',
    "# c\n",
    "|\n",
    ">\n",
    "%YAML 1.1\n",
    "%TAG ! tag:x,2000:\n",
    "2014-02-30",
    "2014-09-01",
    "1e999",
    "0x1F",
    "0o17",
    "1_000",
    "1:30",
    ".inf",
    ".nan",
    "~",
    "null",
    "yes",
    "\x00",
    "\x07",
    "\ufeff",
    "\u2028",
    "\x85",
    "中文",
    "\\",
    "=",
    "@",
    "`",
    "%",
    "!",
]
yaml_soup = st.lists(st.sampled_from(TOKENS), max_size=60).map("".join)
PLAIN = (str, int, float, bool, type(None), dt.date)


def _plain(value: Any, depth: int = 0) -> None:
    assert depth <= MAX_DEPTH + 1
    if isinstance(value, dict):
        for k, v in value.items():
            assert isinstance(k, PLAIN) and not isinstance(k, (dict, list))
            _plain(v, depth + 1)
    elif isinstance(value, list):
        for v in value:
            _plain(v, depth + 1)
    else:
        assert isinstance(value, PLAIN), type(value)


@fuzz(2000)
@given(source=st.one_of(st.text(max_size=300), yaml_soup, st.binary(max_size=200).map(lambda b: b.decode("latin-1"))))
def test_yaml_reader_raises_only_yaml_error(source: str) -> None:
    count("fuzz:yaml")
    try:
        doc = parse_text(source, "fuzz.yaml")
    except YamlError as exc:
        p = exc.problem
        assert p.file == "fuzz.yaml" and p.line >= 1 and p.col >= 1 and p.message
        assert p.line <= sum(source.count(b) for b in ("\n", "\r", "\x85", "\u2028", "\u2029")) + 2
        return
    _plain(doc.data)
    for line, col in doc.marks.values():
        assert line >= 1 and col >= 1


@fuzz(40)
@given(depth=st.integers(1, 200_000), opener=st.sampled_from(["[", "{a: ", "- ", "? "]))
def test_yaml_reader_survives_any_nesting(depth: int, opener: str) -> None:
    """libyaml's composer recurses in C: 100,000 levels used to kill the interpreter (SIGSEGV)."""
    count("fuzz:yaml")
    closer = {"[": "]", "{a: ": "}"}.get(opener, "")
    source = opener * depth + "x" + closer * depth
    try:
        parse_text(source, "deep.yaml")
    except YamlError as exc:
        assert exc.problem.line >= 1 and exc.problem.message
    else:
        assert depth <= MAX_DEPTH + 1


# --- the loader, by mutating base/ ------------------------------------------------------------------------
FILES = sorted(str(p.relative_to(BASE)) for p in BASE.rglob("*.yaml"))
SNIPPETS = [
    "",
    " ",
    "\n",
    ":",
    "- ",
    "[",
    "]",
    "{",
    "}",
    "x",
    "P1",
    "F01",
    "S01",
    "fgw",
    "application",
    "-1",
    ".inf",
    "9" * 30,
    "!!python/object:os.system",
    "&a",
    "*a",
    "<<: *a",
    "\t",
    "id: x",
    "  extra: 1\n",
    "中",
    "\x00",
]


@st.composite
def mutations(draw: st.DrawFn) -> tuple[str, str]:
    name = draw(st.sampled_from(FILES))
    original = (BASE / name).read_text(encoding="utf-8")
    lines = original.splitlines(keepends=True)
    kind = draw(
        st.sampled_from(["insert", "delete", "replace", "duplicate_line", "drop_line", "swap_lines", "truncate"])
    )
    pos = draw(st.integers(0, len(original)))
    if kind == "insert":
        text = original[:pos] + draw(st.sampled_from(SNIPPETS)) + original[pos:]
    elif kind == "delete":
        text = original[:pos] + original[pos + draw(st.integers(1, 20)) :]
    elif kind == "replace":
        text = original[:pos] + draw(st.sampled_from(SNIPPETS)) + original[pos + draw(st.integers(1, 10)) :]
    elif kind == "truncate":
        text = original[:pos]
    else:
        i = draw(st.integers(0, len(lines) - 1))
        j = draw(st.integers(0, len(lines) - 1))
        if kind == "duplicate_line":
            lines.insert(i, lines[i])
        elif kind == "drop_line":
            del lines[i]
        else:
            lines[i], lines[j] = lines[j], lines[i]
        text = "".join(lines)
    return name, text


@fuzz(200)
@given(edits=st.lists(mutations(), min_size=1, max_size=3))
def test_mutated_rulesets_load_or_fail_with_located_problems(edits: list[tuple[str, str]]) -> None:
    count("fuzz:loader")
    count("broken_ruleset_mutated")
    with tempfile.TemporaryDirectory() as tmp:
        root = copy_base(Path(tmp))
        for name, content in edits:
            (root / name).write_text(content, encoding="utf-8")
        try:
            rs = load_ruleset(root, cache=False)
        except RuleSetError as exc:
            assert exc.problems
            for p in exc.problems:
                assert p.file.startswith("base/") and p.line >= 1 and p.col >= 1 and p.message, str(p)
            return
        report = check(ruleset=rs)  # findings are fine; exceptions are not
        json.dumps(report.to_dict(), ensure_ascii=False, default=str)
        for fid in [*rs.flowcharts, *(["baseline"] if rs.baseline else [])]:
            with contextlib.suppress(FlowmatchError):
                schedule(fid, None, ruleset=rs)


# --- the JSON Lines batch -----------------------------------------------------------------------------------
def _finite(line: str) -> bool:  # NaN/Infinity lines are a known bug, tested in test_hostile_inputs.py
    return "NaN" not in line and "Infinity" not in line


line_pool = st.one_of(
    profiles.filter(lambda p: all(isinstance(k, str) for k in p))
    .map(lambda p: json.dumps(p, ensure_ascii=False, default=str))
    .filter(_finite),
    st.text(alphabet=st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",)), max_size=30),
    nested.map(lambda v: json.dumps(v, default=str)).filter(_finite),
    st.sampled_from(
        [
            "",
            "   ",
            "{",
            "}",
            "[]",
            "null",
            "1",
            '"text"',
            "{}",
            '{"kind": "road"}',
            '{"kind": "road"',
            "{'kind': 'road'}",
            '{"kind": ["road"]}',
            "\t",
        ]
    ),
)


@fuzz(200)
@given(lines=st.lists(line_pool.map(lambda line: line.replace("\r", " ").replace("\n", " ")), max_size=12))
def test_json_lines_batch_answers_every_line(lines: list[str]) -> None:
    count("fuzz:jsonl")
    source = "\n".join(lines) + ("\n" if lines else "")
    result = CliRunner().invoke(main, ["match", "--rules", str(BASE), "-"], input=source)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    expected = [(n, line) for n, line in enumerate(lines, start=1) if line.strip()]
    out = result.stdout.split("\n")  # not splitlines(): U+2028 inside a JSON string is not a line break
    assert out.pop() == ""
    assert len(out) == len(expected)
    invalid = 0
    for (number, line), produced in zip(expected, out, strict=True):
        data = json.loads(produced)
        assert data["line"] == number
        assert data["status"] in STATUSES
        if len(line.encode("utf-8")) > MAX_LINE:  # refused whole, never read into memory
            assert data["status"] == "invalid" and data["error"].startswith(f"line is longer than {MAX_LINE} bytes")
            invalid += 1
            continue
        try:
            profile = json.loads(line)
        except ValueError:
            assert data["status"] == "invalid" and data["error"].startswith("line is not valid JSON: ")
        else:
            if isinstance(profile, dict):
                assert {k: v for k, v in data.items() if k != "line"} == matcher_for(RS).match(profile).to_dict()
            else:
                assert data["status"] == "invalid"
                assert data["error"] == f"expected a JSON object of attribute to value, got {type(profile).__name__}"
        invalid += data["status"] == "invalid"
    assert result.exit_code == (2 if invalid else 0)


# --- search (the web page echoes queries back) ---------------------------------------------------------------
@fuzz(200)
@given(
    query=st.one_of(
        text,
        huge_text,
        st.sampled_from(
            ["<script>alert(1)</script>", "施工许可", "permt", "' OR 1=1", "\x00", "%00", "../../etc/passwd", "{{7*7}}"]
        ),
    ),
    kind=st.one_of(st.none(), st.sampled_from(["situation", "flowchart", "item", "material"]), text),
    limit=st.one_of(st.integers(-5, 100), st.just(10**9)),
)
def test_search_answers_or_refuses(query: str, kind: str | None, limit: int) -> None:
    search = pytest.importorskip("flowmatch.search")
    count("fuzz:search")
    try:
        hits = search.search(query, ruleset=RS, kind=kind, limit=limit)
    except InputError as exc:
        assert str(exc)
        return
    assert isinstance(hits, list)
    if limit > 0:
        assert len(hits) <= limit


# a few fixed seeds on top of hypothesis: random whole-profile batches through the library
def test_random_batches_through_the_library() -> None:
    rng = random.Random(20140901)
    matcher = matcher_for(RS)
    for _ in range(200):
        profile = {a: rng.choice([*v, "", "bogus"]) for a, v in ATTRIBUTES.items() if rng.random() < 0.8}
        assert matcher.match(profile).status in STATUSES
    count("fuzz:matcher", 200)
