"""What a notice reuses is keyed by everything it depends on (issue 18).

A notice keeps three things between notices: the per-flow parts of its context (``render._flow_parts``:
what no applicant, date or on-file list changes), the per-flow material analysis
(``materials._flow_materials``), both on the rule-set's ``derived`` cache, and its pictures
(``render.notice_pictures``: by the schedule's content, calendar, names and language).  Each test here
renders a notice after the caches hold another one that differs in one input, and compares it with
the same notice rendered with every cache empty: they must be the same text, and differ from the other.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flowmatch import derived, pictures, render
from flowmatch.calendar import WorkCalendar
from flowmatch.golden import GOLDEN
from flowmatch.notice import build_notice
from flowmatch.notice import render as render_notice
from flowmatch.ruleset import RuleSet, load_ruleset
from flowmatch.scheduler import schedule

START = dt.date(2026, 3, 2)
GENERATED = dt.date(2026, 2, 27)
CAL = WorkCalendar()  # one calendar for every notice, as a server keeps one
F10 = dict(GOLDEN["F10"])
BASE: dict[str, Any] = {
    "profile": F10,
    "start": START,
    "name": "示例项目甲",
    "lang": "zh",
    "on_file": (),
    "commitment": False,
    "calendar": CAL,
}
# one input changed at a time; each gives the same flowchart (F10) or, for the flag, the same flowchart resolved otherwise
CHANGES: dict[str, dict[str, Any]] = {
    "project name": {"name": "示例项目乙"},
    "start date": {"start": dt.date(2026, 9, 28)},  # across National Day: other dates, other Gantt ticks
    "estimated year": {"start": dt.date(2027, 12, 1)},  # dates in a year not yet published
    "language": {"lang": "en"},
    "flag": {"profile": {**F10, "removes_trees": "true"}},
    "answers": {"profile": {**F10, "building_use": "affordable_housing"}},  # the same situation, other answers
    "on file": {"on_file": ("legal_entity_certificate", "land_premium_receipt")},
    "commitment": {"commitment": True},
    "calendar": {"calendar": WorkCalendar(holidays=[dt.date(2026, 3, 10)])},  # the same start, later dates
}


def _clear(rs: RuleSet) -> None:
    """Every cache a notice fills, emptied."""
    rs.derived.notice_parts.clear()
    rs.derived.flow_materials.clear()
    rs.derived.resolved.clear()
    render._PICTURES.clear()
    render._ENGINES.clear()
    pictures._DIAGRAM_CACHE.clear()


def _notice(rs: RuleSet, fmt: str, **inputs: Any) -> str:
    args = {**BASE, **inputs}
    notice = build_notice(
        args["profile"],
        ruleset=rs,
        start=args["start"],
        calendar=args["calendar"],
        name=args["name"],
        applicant="示例公司",
        on_file=args["on_file"],
        commitment=args["commitment"],
        generated=GENERATED,
    )
    text = render_notice(notice, fmt, lang=args["lang"])
    assert isinstance(text, str)
    return text


def _uncached(rs: RuleSet, fmt: str, **inputs: Any) -> str:
    """The notice rendered with no cache at all: every per-flow part built afresh (even between the
    Chinese context a notice is built from and its English one), every picture drawn."""
    _clear(rs)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(derived, "per_flow", lambda cache, flow, key, build: build())
        mp.setattr(render, "notice_pictures", _drawn)
        mp.setattr(pictures, "_DIAGRAM_CACHE", _Forgetful())
        return _notice(rs, fmt, **inputs)


def _drawn(
    schedule: Any, cal: Any, short: Any, joint_ids: Any, kind: str, lang: str = "zh", names: Any = None
) -> dict[str, Any]:
    """``render.notice_pictures`` without its cache."""
    if kind not in ("svg", "mermaid"):
        return {}
    return render._draw_pictures(schedule, cal, short, joint_ids, kind, lang, names)


class _Forgetful(dict[Any, Any]):
    """A cache that never keeps anything."""

    def __setitem__(self, key: Any, value: Any) -> None:
        pass


@pytest.fixture()
def rs() -> Iterator[RuleSet]:
    ruleset = load_ruleset(cache=False)
    yield ruleset
    _clear(ruleset)


@pytest.mark.parametrize("fmt", ["html", "md"])
@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_notice_after_a_cached_one_is_the_uncached_notice(rs: RuleSet, change: str, fmt: str) -> None:
    inputs = CHANGES[change]
    expected = _uncached(rs, fmt, **inputs)
    base = _uncached(rs, fmt)
    assert expected != base, f"changing the {change} must change the notice"
    _notice(rs, fmt)  # the caches now hold the base notice's parts and pictures
    assert _notice(rs, fmt, **inputs) == expected
    assert _notice(rs, fmt) == base  # and the base notice is still itself with both cached
    assert _notice(rs, fmt, **inputs) == expected


def test_the_same_inputs_give_the_same_notice_cached_or_not(rs: RuleSet) -> None:
    _clear(rs)
    first = _notice(rs, "html", lang="en")
    assert rs.derived.notice_parts and rs.derived.flow_materials and render._PICTURES
    assert _notice(rs, "html", lang="en") == first == _uncached(rs, "html", lang="en")


def test_another_version_of_the_rule_set_gets_its_own_parts(rules_copy: Path) -> None:
    """Two rule-sets with the same flowchart ids: a notice of one never shows the other's words."""
    manifest = rules_copy / "ruleset.yaml"
    manifest.write_text(
        manifest.read_text(encoding="utf-8").replace('version: "2014.1"', 'version: "2014.2"'), encoding="utf-8"
    )
    materials = rules_copy / "materials.yaml"
    materials.write_text(
        materials.read_text(encoding="utf-8").replace("name: 土地出让金缴纳凭证", "name: 土地出让价款缴纳凭证（修订）"),
        encoding="utf-8",
    )
    departments = rules_copy / "departments.yaml"
    departments.write_text(
        departments.read_text(encoding="utf-8").replace("short: 规划局", "short: 规划和自然资源局"), encoding="utf-8"
    )
    items = rules_copy / "items.yaml"
    items.write_text(
        items.read_text(encoding="utf-8").replace(
            "name_en: Enterprise investment project filing (备案)", "name_en: Filing of an enterprise investment (备案)"
        ),
        encoding="utf-8",
    )
    old, new = load_ruleset(cache=False), load_ruleset(rules_copy, cache=False)
    try:
        for fmt in ("html", "md"):  # the English names alone differ: the English pictures are the new ones
            expected = _uncached(new, fmt, lang="en")
            before = _notice(old, fmt, lang="en")
            got = _notice(new, fmt, lang="en")
            assert got == expected and got != before
            if fmt == "html":
                flowchart = re.search(r'<svg[^>]*class="diagram flowchart".*?</svg>', got, re.S)
                assert flowchart is not None and "Filing of an" in flowchart.group(0)
        for fmt in ("html", "md"):
            expected = _uncached(new, fmt)
            before = _notice(old, fmt)  # the old rule-set's parts and pictures cached first
            got = _notice(new, fmt)
            assert got == expected and got != before
            assert "2014.2" in got and "土地出让价款缴纳凭证（修订）" in got and "土地出让金缴纳凭证" not in got
            if fmt == "html":
                assert "规划和自然资源局·" in got  # the department's short name in the flowchart
            assert _notice(old, fmt) == before
    finally:
        _clear(old)
        _clear(new)


def test_a_schedule_changed_by_hand_gets_its_own_pictures(rs: RuleSet) -> None:
    """The pictures are keyed by the schedule's content, not by its flow: a step renamed or
    lengthened in a copy of the schedule is drawn as it is."""
    result_profile = F10
    from flowmatch.flows import for_situation
    from flowmatch.matcher import matcher_for

    result = matcher_for(rs).match(result_profile)
    flow = for_situation(rs, result.situation or "", flags=result.flags, profile=result_profile)
    cal = CAL
    plan = schedule(flow, START, cal, ruleset=rs)
    first = render.render_guide(result, plan, "html", ruleset=rs, calendar=cal, generated=GENERATED)
    steps = list(plan.steps)
    steps[0] = dataclasses.replace(steps[0], name="改过名字的环节")
    renamed = dataclasses.replace(plan, steps=tuple(steps))
    got = render.render_guide(result, renamed, "html", ruleset=rs, calendar=cal, generated=GENERATED)
    assert got != first
    gantt = re.search(r'<svg[^>]*class="diagram gantt".*?</svg>', got, re.S)
    assert gantt is not None and "改过名字的环节" in gantt.group(0)
    _clear(rs)
    assert render.render_guide(result, renamed, "html", ruleset=rs, calendar=cal, generated=GENERATED) == got


def test_the_caches_stay_bounded(rs: RuleSet, monkeypatch: pytest.MonkeyPatch) -> None:
    """Many distinct flows and dates: each cache keeps at most its limit."""
    monkeypatch.setattr(derived, "FLOW_LIMIT", 5)
    monkeypatch.setattr(render, "_PICTURES_LIMIT", 7)
    from flowmatch.flows import for_situation
    from flowmatch.matcher import matcher_for

    result = matcher_for(rs).match(F10)
    flow = for_situation(rs, result.situation or "", flags=result.flags, profile=F10)
    cal = CAL
    day = START
    texts: list[str] = []
    for _ in range(12):
        copy = dataclasses.replace(flow)  # a flow of its own (by identity), as a caller may build
        plan = schedule(copy, day, cal, ruleset=rs)
        texts.append(str(render.render_guide(result, plan, "html", ruleset=rs, calendar=cal, generated=GENERATED)))
        assert len(rs.derived.notice_parts) <= 5 and len(rs.derived.flow_materials) <= 5
        assert len(render._PICTURES) <= 7
        day = cal.add(day, 1)
    assert len(set(texts)) == len(texts)  # every start date gave its own notice
    _clear(rs)  # and each is what an uncached rendering gives
    plan = schedule(flow, START, cal, ruleset=rs)
    assert render.render_guide(result, plan, "html", ruleset=rs, calendar=cal, generated=GENERATED) == texts[0]


def test_a_flow_cache_entry_is_never_another_flows(rs: RuleSet) -> None:
    """An entry holds its flow: a flow built later at the same address cannot be served another's parts."""
    calls: list[int] = []

    def build(n: int) -> int:
        calls.append(n)
        return n

    cache: dict[Any, Any] = {}
    from flowmatch.flows import resolve

    a = resolve(rs, "F10")
    b = dataclasses.replace(a)
    assert derived.per_flow(cache, a, "zh", lambda: build(1)) == 1
    assert derived.per_flow(cache, a, "zh", lambda: build(2)) == 1  # cached
    assert derived.per_flow(cache, a, "en", lambda: build(3)) == 3  # another key
    assert derived.per_flow(cache, b, "zh", lambda: build(4)) == 4  # another flow
    assert calls == [1, 3, 4]
    assert all(entry[0] is a or entry[0] is b for entry in cache.values())


def test_each_context_has_its_own_lists_and_dicts(rs: RuleSet) -> None:
    """The per-flow parts are shared between notices; what a context holds at the top is its own."""
    from flowmatch.flows import for_situation
    from flowmatch.matcher import matcher_for

    result = matcher_for(rs).match(F10)
    flow = for_situation(rs, result.situation or "", flags=result.flags, profile=F10)
    plan = schedule(flow, START, CAL, ruleset=rs)
    first = render.build_context(result, plan, ruleset=rs, generated=GENERATED)
    second = render.build_context(result, plan, ruleset=rs, generated=GENERATED)
    for key in ("steps", "fees", "department_names", "department_shorts", "joint_ids", "step_names", "stages"):
        assert first[key] is not second[key], key
    for key in ("joint",):
        assert first["overview"][key] is not second["overview"][key]
    for key in ("flowchart", "ruleset", "centre"):
        assert first["header"][key] is not second["header"][key]
    assert first["pictures"] is not second["pictures"]
    first["department_shorts"].clear()
    first["pictures"].clear()
    third = render.build_context(result, plan, ruleset=rs, generated=GENERATED)
    assert third["department_shorts"] == second["department_shorts"] and third["pictures"] == second["pictures"]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_step_view_is_its_fixed_fields_and_its_dated_ones(rs: RuleSet, lang: str) -> None:
    """The per-flow cache keeps a step's fixed fields and ``render._step_view`` adds the dated ones
    to a :class:`StepView` it builds without ``__init__``: the two sets split the dataclass's fields
    exactly, and every view of a notice carries every field and no other — a field added to
    :class:`StepView` and to neither set fails here instead of being silently absent."""
    from flowmatch.flows import for_situation
    from flowmatch.matcher import match

    fields = {f.name for f in dataclasses.fields(render.StepView)}
    result = match(dict(GOLDEN["F10"]), ruleset=rs)
    flow = for_situation(rs, result.situation or "", flags=result.flags, profile=dict(GOLDEN["F10"]))
    plan = schedule(flow, dt.date(2026, 3, 2), mode="commitment", ruleset=rs)
    context = render.build_context(result, plan, ruleset=rs, generated=GENERATED, pictures="none", lang=lang)
    views = [*context["steps"], *context["completion"]]
    assert views and any(v.committed for v in views) and any(v.completion for v in views)
    for view in views:
        assert set(vars(view)) == fields, set(vars(view)) ^ fields
    parts = [entry for _, entry in rs.derived.notice_parts.values()]
    assert parts
    for part in parts:
        for fixed in part.fixed.values():
            assert set(fixed).isdisjoint(render._DATED_FIELDS)
            assert set(fixed) | render._DATED_FIELDS == fields
