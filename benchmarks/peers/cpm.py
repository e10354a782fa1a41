"""Critical-path scheduling the ways a user would otherwise do it, on the same input as flowmatch.

Input for every implementation: ``durations`` (step id → working days) and ``depends_on`` (step id
→ prerequisite ids), in an arbitrary order, as a user holding a big graph would have them.
Each returns at least the total duration and, except ``criticalpath``, every step's slack.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any


def random_dag(n: int, seed: int = 42) -> tuple[dict[str, float], dict[str, list[str]], int]:
    """``n`` steps, each depending on 1–5 (about 3) earlier steps chosen uniformly; step ids are
    shuffled so that no input order is topological.  Returns durations, depends_on, edge count."""
    rng = random.Random(seed)
    names = [f"t{k}" for k in rng.sample(range(n * 10), n)]
    deps: dict[str, list[str]] = {}
    durations: dict[str, float] = {}
    edges = 0
    for i, name in enumerate(names):
        k = min(i, rng.randint(1, 5))
        chosen = rng.sample(range(i), k) if k else []
        deps[name] = [names[j] for j in chosen]
        durations[name] = float(rng.randint(1, 20))
        edges += k
    order = list(names)
    rng.shuffle(order)
    return {s: durations[s] for s in order}, {s: deps[s] for s in order}, edges


# --- networkx used directly --------------------------------------------------------------------------
def networkx_direct(durations: Mapping[str, float], depends_on: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """DiGraph + topological_generations + forward/backward pass over it + dag_longest_path."""
    import networkx as nx

    g: nx.DiGraph[str] = nx.DiGraph()
    g.add_nodes_from(durations)
    g.add_weighted_edges_from(((d, s, durations[d]) for s, deps in depends_on.items() for d in deps), weight="w")
    stages = [sorted(gen) for gen in nx.topological_generations(g)]
    order = [s for gen in stages for s in gen]
    pred = g.pred
    succ = g.succ
    es: dict[str, float] = {}
    ef: dict[str, float] = {}
    for s in order:
        start = max((ef[p] for p in pred[s]), default=0.0)
        es[s] = start
        ef[s] = start + durations[s]
    total = max(ef.values(), default=0.0)
    ls: dict[str, float] = {}
    for s in reversed(order):
        ls[s] = min((ls[c] for c in succ[s]), default=total) - durations[s]
    path = nx.dag_longest_path(g, weight="w")
    return {"total": total, "slack": {s: ls[s] - es[s] for s in order}, "stages": len(stages), "path": path}


# --- plain Python -----------------------------------------------------------------------------------
def plain_python(durations: Mapping[str, float], depends_on: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """The textbook version with dicts: Kahn's algorithm, then the forward and backward passes."""
    indegree = {s: len(depends_on.get(s, ())) for s in durations}
    successors: dict[str, list[str]] = {s: [] for s in durations}
    for s, deps in depends_on.items():
        for d in deps:
            successors[d].append(s)
    order = [s for s, k in indegree.items() if k == 0]
    for s in order:
        for c in successors[s]:
            indegree[c] -= 1
            if indegree[c] == 0:
                order.append(c)
    if len(order) != len(durations):
        raise ValueError("the graph has a cycle")
    es: dict[str, float] = {}
    ef: dict[str, float] = {}
    for s in order:
        start = 0.0
        for d in depends_on.get(s, ()):
            if ef[d] > start:
                start = ef[d]
        es[s] = start
        ef[s] = start + durations[s]
    total = max(ef.values(), default=0.0)
    lf = dict.fromkeys(durations, total)
    ls: dict[str, float] = {}
    for s in reversed(order):
        ls[s] = lf[s] - durations[s]
        for d in depends_on.get(s, ()):
            if ls[s] < lf[d]:
                lf[d] = ls[s]
    return {"total": total, "slack": {s: ls[s] - es[s] for s in order}}


# --- the floor ------------------------------------------------------------------------------------------
def bare_pass(durations: Mapping[str, float], depends_on: Mapping[str, Sequence[str]]) -> int:
    """Not a scheduler: the least any implementation must do (index the ids, touch every edge once).
    Its growth with graph size shows what the memory hierarchy alone costs."""
    index = {s: i for i, s in enumerate(durations)}
    return len([[index[d] for d in depends_on.get(s, ())] for s in durations])


# --- the criticalpath package -------------------------------------------------------------------------
def criticalpath_package(durations: Mapping[str, float], depends_on: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """PyPI ``criticalpath``: Node objects, link(), update_all() (its critical path enumerates paths)."""
    from criticalpath import Node

    project = Node("project")
    for s, d in durations.items():
        project.add(Node(s, duration=d))
    for s, deps in depends_on.items():
        for dep in deps:
            project.link(dep, s)
    project.update_all()
    return {"total": float(project.duration)}
