from __future__ import annotations

import datetime as dt
import json

import networkx as nx
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from flowmatch.calendar import WorkCalendar
from flowmatch.cli import main
from flowmatch.errors import CalendarError, InputError
from flowmatch.ruleset import RuleSet
from flowmatch.scheduler import critical_path_method, schedule


@st.composite
def dags(draw: st.DrawFn) -> tuple[list[list[int]], list[float]]:
    n = draw(st.integers(1, 30))
    preds = [sorted(set(draw(st.lists(st.integers(0, i - 1), max_size=4)))) if i else [] for i in range(n)]
    weights = [float(w) for w in draw(st.lists(st.integers(0, 20), min_size=n, max_size=n))]
    return preds, weights


def _longest(preds: list[list[int]], weights: list[float]) -> float:
    g = nx.DiGraph()
    for i, w in enumerate(weights):
        g.add_node(i)
        for p in preds[i]:
            g.add_edge(p, i, weight=weights[p])
        g.add_edge(i, "end", weight=w)
    return float(nx.dag_longest_path_length(g, weight="weight"))


@settings(max_examples=300, deadline=None)
@given(dags())
def test_cpm_properties(dag: tuple[list[list[int]], list[float]]) -> None:
    preds, weights = dag
    r = critical_path_method(preds, weights)
    assert r.total == _longest(preds, weights)
    for i in range(len(weights)):
        slack = r.ls[i] - r.es[i]
        assert slack >= 0
        assert r.ef[i] == r.es[i] + weights[i]
        assert all(r.es[i] >= r.ef[p] for p in preds[i])
    critical = [i for i in range(len(weights)) if r.ls[i] == r.es[i]]
    assert max((r.ef[i] for i in critical), default=0.0) == r.total


@settings(max_examples=200, deadline=None)
@given(dags(), st.data())
def test_removing_a_non_critical_step_never_lengthens(
    dag: tuple[list[list[int]], list[float]], data: st.DataObject
) -> None:
    preds, weights = dag
    r = critical_path_method(preds, weights)
    loose = [i for i in range(len(weights)) if r.ls[i] - r.es[i] > 0]
    if not loose:
        return
    drop = data.draw(st.sampled_from(loose))
    # removing a step: its successors inherit its predecessors (as flows.resolve does)
    keep = [i for i in range(len(weights)) if i != drop]
    new_index = {old: new for new, old in enumerate(keep)}
    new_preds = []
    for old in keep:
        ps: set[int] = set()
        for p in preds[old]:
            ps |= set(preds[drop]) if p == drop else {p}
        new_preds.append(sorted(new_index[p] for p in ps))
    assert critical_path_method(new_preds, [weights[i] for i in keep]).total <= r.total


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 30), min_size=1, max_size=20))
def test_chain_is_the_sum(durations: list[int]) -> None:
    preds = [[i - 1] if i else [] for i in range(len(durations))]
    assert critical_path_method(preds, [float(d) for d in durations]).total == sum(durations)


def test_stages_are_topological_generations(ruleset: RuleSet) -> None:
    for fid in ruleset.flowcharts:
        s = schedule(fid, ruleset=ruleset)
        g = nx.DiGraph()
        for step in s.steps:
            g.add_node(step.id)
            for dep in step.depends_on:
                g.add_edge(dep, step.id)
        assert [sorted(x) for x in s.stages] == [sorted(x) for x in nx.topological_generations(g)]


def test_schedule_agrees_with_an_independent_pass_over_show_json(ruleset: RuleSet) -> None:
    runner = CliRunner()
    for fid in ruleset.flowcharts:
        shown = json.loads(runner.invoke(main, ["show", fid, "--json"]).output)
        sched = json.loads(runner.invoke(main, ["schedule", fid, "--json"]).stdout)
        steps = [s for s in shown["steps"] if not s["completion"]]
        ef: dict[str, float] = {}
        elapsed: dict[str, float] = {}
        for step in steps:  # show lists steps in topological order
            start = max((ef[d] for d in step["depends_on"]), default=0.0)
            ef[step["id"]] = start + (step["duration"] if step["counted"] else 0)
            e_start = max((elapsed[d] for d in step["depends_on"]), default=0.0)
            elapsed[step["id"]] = e_start + step["duration"]
        assert sched["working_days"] == max(ef.values())
        assert sched["elapsed_working_days"] == max(elapsed.values())
        assert {s["id"]: s["ef"] for s in sched["steps"]} == ef
        for step in sched["steps"]:
            assert step["slack"] >= 0
            assert (step["slack"] == 0) == (step["id"] in sched["critical_path"])


def test_dates_are_working_days_and_honour_holidays(ruleset: RuleSet) -> None:
    cal = WorkCalendar()
    for start in (dt.date(2014, 9, 26), dt.date(2026, 3, 2)):
        for fid in ruleset.flowcharts:
            s = schedule(fid, start, cal, ruleset=ruleset)
            assert s.finish == cal.add(start, s.elapsed_working_days)
            for step in s.steps:
                assert step.end is not None and step.start is not None
                assert step.end == start or cal.is_workday(step.end)


def test_commitment_never_slower(ruleset: RuleSet) -> None:
    for fid in ruleset.flowcharts:
        std = schedule(fid, ruleset=ruleset)
        com = schedule(fid, ruleset=ruleset, mode="commitment")
        assert com.working_days <= std.working_days
        assert any(s.committed for s in com.steps) == any(s.commitment is not None for s in com.flow.pre_construction)  # type: ignore[union-attr]


def test_baseline_mode_schedules_the_pre_reform_flow(ruleset: RuleSet) -> None:
    base = schedule("F10", ruleset=ruleset, mode="baseline")
    assert base.flowchart == "baseline"
    assert base.working_days > schedule("F10", ruleset=ruleset).working_days


def test_year_boundary_without_data(ruleset: RuleSet) -> None:
    with pytest.raises(CalendarError, match="no official working-day data for 2027"):
        schedule("F01", dt.date(2026, 12, 1), WorkCalendar(strict=True), ruleset=ruleset)
    estimated = schedule("F01", dt.date(2026, 12, 1), WorkCalendar(), ruleset=ruleset)
    assert estimated.finish is not None and estimated.finish.year == 2027
    assert estimated.estimated_from is not None and estimated.estimated_from.year == 2027
    assert estimated.warnings and "2027年节假日安排尚未公布" in estimated.warnings[0]
    relaxed = WorkCalendar(assume_weekends=True)
    s = schedule("F01", dt.date(2026, 12, 1), relaxed, ruleset=ruleset)
    assert s.finish is not None and s.finish.year == 2027
    assert s.warnings and "2027" in s.warnings[0]


def test_bad_mode_and_date() -> None:
    with pytest.raises(InputError, match=r"^unknown mode 'fast'; allowed: standard, commitment, baseline$"):
        schedule("F10", mode="fast")
    with pytest.raises(InputError, match=r"^start date '2026-13-01' is not a date; allowed: YYYY-MM-DD$"):
        schedule("F10", "2026-13-01")


def test_schedule_graph_for_any_dag() -> None:
    from flowmatch.scheduler import schedule_graph

    plan = schedule_graph({"a": 2, "b": 3, "c": 1, "d": 4}, {"b": ["a"], "c": ["a"], "d": ["b", "c"]})
    assert plan.total == 9
    assert plan.critical == ("a", "b", "d")
    assert plan.stages == (("a",), ("b", "c"), ("d",))
    assert plan.slack[plan.index["c"]] == 2
    with pytest.raises(InputError, match=r"^unknown prerequisite 'z'$"):
        schedule_graph({"a": 1}, {"a": ["z"]})
    with pytest.raises(InputError, match=r"^the steps form a cycle \(through 'a'\)$"):
        schedule_graph({"a": 1, "b": 1}, {"a": ["b"], "b": ["a"]})


@st.composite
def named_dags(draw: st.DrawFn) -> tuple[dict[str, float], dict[str, list[str]]]:
    """A random DAG as a user holds one: string ids in no topological order, prerequisites by id
    (repeats allowed), durations of 0–20 working days (halves too)."""
    n = draw(st.integers(0, 25))
    names = [f"s{k}" for k in draw(st.permutations(range(n)))]  # names[i] may depend on names[:i]
    deps = {
        names[i]: [names[j] for j in draw(st.lists(st.integers(0, i - 1), max_size=4))] if i else [] for i in range(n)
    }
    durations = {s: draw(st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.0, 5.0, 8.0, 20.0])) for s in names}
    order = draw(st.permutations(names))  # the caller's order: not topological
    return {s: durations[s] for s in order}, {s: deps[s] for s in order if deps[s] or draw(st.booleans())}


def _weighted(durations: dict[str, float], depends_on: dict[str, list[str]]) -> nx.DiGraph[str]:
    """The DAG for networkx: an edge p → s weighs p's duration."""
    g: nx.DiGraph[str] = nx.DiGraph()
    g.add_nodes_from(durations)
    for s, deps in depends_on.items():
        for p in deps:
            g.add_edge(p, s, weight=durations[p])
    return g


def _longest_ending_at(g: nx.DiGraph[str], durations: dict[str, float], node: str, *, through: bool) -> float:
    """The longest path (networkx) over ``node``'s ancestors ending at ``node`` (its duration added
    when ``through``): the earliest finish, or the earliest start without it."""
    sub = g.subgraph(nx.ancestors(g, node) | {node})
    return float(nx.dag_longest_path_length(sub, weight="weight")) + (durations[node] if through else 0.0)


@settings(max_examples=300, deadline=None)
@given(named_dags())
def test_schedule_graph_agrees_with_networkx_longest_paths(dag: tuple[dict[str, float], dict[str, list[str]]]) -> None:
    from flowmatch.scheduler import schedule_graph

    durations, depends_on = dag
    plan = schedule_graph(durations, depends_on)
    g = _weighted(durations, depends_on)
    reversed_g = _weighted(durations, {})  # edges s → p weigh s's duration: paths to the end, backwards
    for s, deps in depends_on.items():
        for p in deps:
            reversed_g.add_edge(s, p, weight=durations[s])
    assert sorted(plan.order) == sorted(durations) and len(plan.order) == len(durations)
    position = plan.index
    assert all(position[p] < position[s] for s, deps in depends_on.items() for p in deps)  # topological
    total = max((_longest_ending_at(g, durations, s, through=True) for s in durations), default=0.0)
    assert plan.total == total
    for k, s in enumerate(plan.order):
        assert plan.es[k] == _longest_ending_at(g, durations, s, through=False)
        assert plan.ef[k] == plan.es[k] + durations[s]
        # latest finish: the total less the longest path from s's successors to the end
        tail = _longest_ending_at(reversed_g, durations, s, through=True)  # s and everything after it
        assert plan.lf[k] == total - tail + durations[s]
        assert plan.ls[k] == plan.lf[k] - durations[s]
        assert plan.slack[k] >= 0
    assert [set(x) for x in plan.stages] == [set(x) for x in nx.topological_generations(g)]
    if durations:
        path = nx.dag_longest_path(_with_end(g, durations), weight="weight")[:-1]
        assert set(path) <= set(plan.critical)  # a longest path is all critical (zero slack)


def _with_end(g: nx.DiGraph[str], durations: dict[str, float]) -> nx.DiGraph[str]:
    out = g.copy()
    for s, d in durations.items():
        out.add_edge(s, "\0end", weight=d)
    return out
