"""Proposed public entry point: ``flowmatch.scheduler.schedule_graph`` for a user's own big graph.

``flowmatch.schedule`` works on flowcharts of a rule-set.  A user with thousands of steps of their
own (a programme of projects) has ids, durations and prerequisites; this schedules them with the
same forward/backward pass (``critical_path_method``) in time linear in steps + dependencies.
The suite uses ``flowmatch.scheduler.schedule_graph`` when it exists and this copy otherwise —
the code is written to be moved into ``scheduler.py`` as is (proposed to the lead).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

from flowmatch.errors import InputError
from flowmatch.scheduler import critical_path_method

_EPS = 1e-9


@dataclass(frozen=True)
class GraphSchedule:
    """Per-step results aligned with ``order`` (a topological order); ``index`` maps id → position."""

    order: tuple[str, ...]
    es: list[float]
    ef: list[float]
    ls: list[float]
    lf: list[float]
    stage: list[int]
    total: float

    @cached_property
    def index(self) -> dict[str, int]:
        return {s: k for k, s in enumerate(self.order)}

    @property
    def slack(self) -> list[float]:
        return [max(b - a, 0.0) for a, b in zip(self.es, self.ls, strict=True)]

    @property
    def critical(self) -> tuple[str, ...]:
        """Zero-slack steps, in topological order."""
        return tuple(s for s, a, b in zip(self.order, self.es, self.ls, strict=True) if abs(b - a) < _EPS)

    @property
    def stages(self) -> tuple[tuple[str, ...], ...]:
        """Topological generations (steps that can run side by side)."""
        out: list[list[str]] = [[] for _ in range(max(self.stage, default=-1) + 1)]
        for s, k in zip(self.order, self.stage, strict=True):
            out[k].append(s)
        return tuple(tuple(g) for g in out)


def schedule_graph(durations: Mapping[str, float], depends_on: Mapping[str, Sequence[str]]) -> GraphSchedule:
    """Schedule any DAG: ``durations`` step → working days, ``depends_on`` step → prerequisites.

    Raises :class:`InputError` for an unknown prerequisite or a cycle.
    """
    ids = list(durations)
    index = {s: i for i, s in enumerate(ids)}
    n = len(ids)
    try:
        preds_in = [[index[d] for d in depends_on.get(s, ())] for s in ids]
    except KeyError as exc:
        raise InputError(f"unknown prerequisite {exc.args[0]!r}") from None
    indegree = [len(p) for p in preds_in]
    successors: list[list[int]] = [[] for _ in range(n)]
    for i, ps in enumerate(preds_in):
        for p in ps:
            successors[p].append(i)
    order = [i for i in range(n) if not indegree[i]]
    for i in order:  # Kahn's algorithm; the list is its own queue
        for c in successors[i]:
            indegree[c] -= 1
            if not indegree[c]:
                order.append(c)
    if len(order) != n:
        stuck = next(ids[i] for i in range(n) if indegree[i])
        raise InputError(f"the steps form a cycle (through {stuck!r})")
    position = [0] * n
    for k, i in enumerate(order):
        position[i] = k
    preds = [[position[p] for p in preds_in[i]] for i in order]
    weights = [float(durations[ids[i]]) for i in order]
    passes = critical_path_method(preds, weights)
    names = tuple(ids[i] for i in order)
    return GraphSchedule(names, passes.es, passes.ef, passes.ls, passes.lf, passes.level, passes.total)
