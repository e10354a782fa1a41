"""The packaged Harbin-2014 catalog: every file round-trips, every flowchart is a sound DAG."""

from __future__ import annotations

import networkx as nx
import pytest

from flowmatch.flows import flow_graph
from flowmatch.models import Department, Flowchart, Item, Material
from flowmatch.ruleset import RuleSet

#: the last approval of each flowchart: the construction permit, or its rural equivalent
PERMITS = {"ZJ07", "GT13"}


@pytest.mark.parametrize(
    ("attr", "model"),
    [("items", Item), ("materials", Material), ("departments", Department), ("flowcharts", Flowchart)],
)
def test_every_entry_round_trips(ruleset: RuleSet, attr: str, model: type) -> None:
    entries = getattr(ruleset, attr)
    assert entries
    for entry in entries.values():
        again = model.model_validate(entry.model_dump(by_alias=True))
        assert again == entry


def test_catalog_size_and_joint_procedures(ruleset: RuleSet) -> None:
    assert len(ruleset.items) >= 70
    members = {iid: len(ruleset.items[iid].members) for iid in ("LH01", "GX01", "GH01", "LH02")}
    assert members == {"LH01": 14, "GX01": 13, "GH01": 5, "LH02": 12}


def test_no_invented_phone_numbers(ruleset: RuleSet) -> None:
    assert ruleset.manifest.service_centre.phone is None
    assert ruleset.manifest.service_centre.hotline == "12345"
    assert all(d.phone is None for d in ruleset.departments.values())


@pytest.mark.parametrize("fid", [f"F{i:02d}" for i in range(1, 28)])
def test_flowchart_is_acyclic_and_reaches_the_permit(ruleset: RuleSet, fid: str) -> None:
    flow = ruleset.flowcharts[fid]
    graph = flow_graph(ruleset, flow)
    assert nx.is_directed_acyclic_graph(graph)
    permits = [sid for sid, step in flow.steps.items() if step.item in PERMITS]
    assert permits, f"{fid} has no construction permit or rural planning permit"
    reach = set().union(*(nx.ancestors(graph, p) | {p} for p in permits))
    first_steps = [sid for sid in flow.steps if graph.in_degree(sid) == 0]
    assert any(s in reach for s in first_steps)
    for sid, step in flow.steps.items():
        assert step.item in ruleset.items
        if ruleset.items[step.item].stage == 4:
            assert any(p in nx.ancestors(graph, sid) for p in permits), f"{fid}: {sid} before the permit"


def test_every_flowchart_and_item_cites_a_source(ruleset: RuleSet) -> None:
    assert all(f.source for f in ruleset.flowcharts.values())
    assert all(i.source for i in ruleset.items.values())
