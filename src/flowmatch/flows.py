"""A flowchart resolved for one project: variants chosen, optional steps switched by flags.

A resolved flow is what the scheduler, statistics and guides work on.  Steps switched off by a
flag disappear and their dependents inherit their prerequisites, so the graph stays connected.
Steps whose item is in national stage 4 (竣工验收) happen after construction: they are listed,
but they are outside the 从立项到开工 clock.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from .conditions import Cond
from .errors import InputError
from .models import Commitment, Flowchart, Item
from .ruleset import RuleSet

COMPLETION_STAGE = 4


@dataclass(frozen=True)
class ResolvedStep:
    id: str
    item: Item
    name: str
    department: str
    members: tuple[str, ...]
    duration: float
    counted: bool
    depends_on: tuple[str, ...]
    materials: tuple[str, ...]
    produces: tuple[str, ...]
    completion: bool
    variant: str | None
    commitment: Commitment | None

    @property
    def approval(self) -> bool:
        """An approval step: on the government clock and before construction."""
        return self.counted and not self.completion


@dataclass(frozen=True)
class ResolvedFlow:
    flowchart: Flowchart
    steps: dict[str, ResolvedStep]
    off: tuple[str, ...]
    variants: Mapping[str, str]
    flags: Mapping[str, bool]
    _graph: list[nx.DiGraph[str]] = field(default_factory=list, repr=False, compare=False)

    @property
    def id(self) -> str:
        return self.flowchart.id

    @property
    def approval_steps(self) -> list[ResolvedStep]:
        return [s for s in self.steps.values() if s.approval]

    @property
    def pre_construction(self) -> list[ResolvedStep]:
        return [s for s in self.steps.values() if not s.completion]

    @property
    def requisites(self) -> int:
        """Materials summed over approval steps, with no sharing (SPEC §2)."""
        return sum(len(s.materials) for s in self.approval_steps)

    def graph(self) -> nx.DiGraph[str]:
        """The resolved steps as a DiGraph (built once)."""
        if not self._graph:
            g: nx.DiGraph[str] = nx.DiGraph()
            for sid in self.steps:
                g.add_node(sid)
            for sid, step in self.steps.items():
                for dep in step.depends_on:
                    g.add_edge(dep, sid)
            self._graph.append(g)
        return self._graph[0]


def flow_graph(ruleset: RuleSet, flow: Flowchart) -> nx.DiGraph[str]:
    """Every step of a flowchart, unresolved (all optional steps on), as a DiGraph."""
    graphs = ruleset.derived.flow_graphs
    found = graphs.get(flow.id)
    if found is None:
        found = nx.DiGraph()
        found.add_nodes_from(flow.steps)
        for sid in flow.steps:
            for dep in step_prerequisites(flow, sid):
                found.add_edge(dep, sid)
        graphs[flow.id] = found
    return found


def step_prerequisites(flow: Flowchart, step_id: str, variant: str | None = None) -> tuple[str, ...]:
    """A step's prerequisites: its own, plus those of ``variant`` (or of every variant when None —
    the over-approximation used for the unresolved graph)."""
    step = flow.steps[step_id]
    if variant is None:
        chosen = list(step.variants.values())
    else:
        chosen = [step.variants[variant]] if variant in step.variants else []
    out = list(step.depends_on)
    for v in chosen:
        out.extend(d for d in v.depends_on if d not in out)
    return tuple(out)


def is_completion(ruleset: RuleSet, flow: Flowchart, step_id: str) -> bool:
    item = ruleset.items.get(flow.steps[step_id].item)
    return item is not None and item.stage == COMPLETION_STAGE


def _applies(cond: Cond | None, facts: Mapping[str, Any]) -> bool:
    """A step or material condition holds (an undecidable one counts as not holding)."""
    return cond is None or cond.holds(facts) is True


def _may_apply(cond: Cond | None, facts: Mapping[str, Any]) -> bool:
    """A material condition does not rule the material out (when undecidable, ask for it)."""
    return cond is None or cond.holds(facts) is not False


def _facts(ruleset: RuleSet, flags: Mapping[str, bool], profile: Mapping[str, Any] | None) -> dict[str, Any]:
    facts: dict[str, Any] = {name: False for name in ruleset.flags}
    facts.update(flags)
    if profile:
        facts.update({k: v for k, v in profile.items() if k in ruleset.attributes})
    return facts


def resolve(
    ruleset: RuleSet,
    flowchart: str | Flowchart,
    *,
    variants: Mapping[str, str] | None = None,
    flags: Mapping[str, bool] | None = None,
    profile: Mapping[str, Any] | None = None,
) -> ResolvedFlow:
    """Resolve a flowchart for a configuration; results are cached on the rule-set."""
    flow = ruleset.flowchart(flowchart) if isinstance(flowchart, str) else flowchart
    variants = dict(variants or {})
    flags = dict(flags or {})
    _check_configuration(ruleset, flow, variants, flags)
    flags = {k: bool(v) for k, v in flags.items()}
    key = (
        flow.id,
        tuple(sorted(variants.items())),
        tuple(sorted(flags.items())),
        tuple(sorted((k, str(v)) for k, v in (profile or {}).items() if k in ruleset.attributes)),
    )
    found = ruleset.derived.resolved.get(key)
    if found is not None:
        return found
    facts = _facts(ruleset, flags, profile)
    on: dict[str, bool] = {sid: _applies(s.when, facts) for sid, s in flow.steps.items()}
    effective: dict[str, tuple[str, ...]] = {}
    prereqs = {sid: step_prerequisites(flow, sid, variants.get(sid) or "") for sid in flow.steps}

    def deps_of(sid: str) -> tuple[str, ...]:
        """Prerequisites with switched-off steps replaced by their own (iteratively: chains of
        optional steps may be long)."""
        pending = [sid]
        while pending:
            current = pending[-1]
            waiting = [d for d in prereqs[current] if not on[d] and d not in effective]
            if waiting:
                pending.extend(waiting)
                continue
            pending.pop()
            if current in effective:
                continue
            out: list[str] = []
            for dep in prereqs[current]:
                for d in (dep,) if on[dep] else effective[dep]:
                    if d not in out:
                        out.append(d)
            effective[current] = tuple(out)
        return effective[sid]

    steps: dict[str, ResolvedStep] = {}
    for sid, step in flow.steps.items():
        if not on[sid]:
            continue
        chosen = variants.get(sid)
        variant = step.variants.get(chosen) if chosen else None
        item = ruleset.items[variant.item if variant else step.item]
        duration = variant.duration if variant and variant.duration is not None else None
        if duration is None:
            duration = step.duration if step.duration is not None and variant is None else item.promised
        materials = [m for m in item.materials if m not in step.omits and _may_apply(ruleset.materials[m].when, facts)]
        for extra in (*(variant.materials if variant else ()), *step.materials):
            if extra not in materials:
                materials.append(extra)
        steps[sid] = ResolvedStep(
            id=sid,
            item=item,
            name=step.name or item.name,
            department=step.department or item.department,
            members=tuple(step.members or item.members),
            duration=float(duration),
            counted=step.counted if step.counted is not None else item.counted,
            depends_on=deps_of(sid),
            materials=tuple(materials),
            produces=tuple(item.produces),
            completion=item.stage == COMPLETION_STAGE,
            variant=chosen if variant else None,
            commitment=item.commitment,
        )
    resolved = ResolvedFlow(flow, _topological(steps), tuple(s for s in flow.steps if not on[s]), variants, flags)
    ruleset.derived.resolved[key] = resolved
    return resolved


def _topological(steps: dict[str, ResolvedStep]) -> dict[str, ResolvedStep]:
    """Steps in a deterministic topological order (file order among ready steps)."""
    order = {sid: i for i, sid in enumerate(steps)}
    indeg = {sid: len(s.depends_on) for sid, s in steps.items()}
    children: dict[str, list[str]] = {sid: [] for sid in steps}
    for sid, s in steps.items():
        for dep in s.depends_on:
            children[dep].append(sid)
    ready = [(order[s], s) for s, d in indeg.items() if d == 0]
    heapq.heapify(ready)
    out: dict[str, ResolvedStep] = {}
    while ready:
        _, sid = heapq.heappop(ready)
        out[sid] = steps[sid]
        for child in children[sid]:
            indeg[child] -= 1
            if indeg[child] == 0:
                heapq.heappush(ready, (order[child], child))
    return out


def _check_configuration(
    ruleset: RuleSet, flow: Flowchart, variants: Mapping[Any, Any], flags: Mapping[Any, Any]
) -> None:
    """Refuse unknown flags, steps and variants, naming the allowed ones (never ignore them)."""
    for name in flags:
        if not isinstance(name, str) or name not in ruleset.flags:
            raise InputError(f"unknown flag {name!r}", allowed=list(ruleset.flags))
    for sid, chosen in variants.items():
        step = flow.steps.get(sid) if isinstance(sid, str) else None
        if step is None or not step.variants:
            allowed = [s for s, st in flow.steps.items() if st.variants]
            raise InputError(f"flowchart {flow.id} has no step {sid!r} with variants", allowed=allowed)
        if not isinstance(chosen, str) or chosen not in step.variants:
            raise InputError(
                f"step {sid} of flowchart {flow.id} has no variant {chosen!r}", allowed=list(step.variants)
            )


def for_situation(
    ruleset: RuleSet,
    situation: str,
    *,
    flags: Mapping[str, bool] | None = None,
    profile: Mapping[str, Any] | None = None,
) -> ResolvedFlow:
    """The flowchart of a situation with the situation's variants applied."""
    sit = ruleset.situations.get(situation) if isinstance(situation, str) else None
    if sit is None:
        raise InputError(f"unknown situation {situation!r}", allowed=list(ruleset.situations))
    return resolve(ruleset, sit.flowchart, variants=sit.variants, flags=flags, profile=profile)
