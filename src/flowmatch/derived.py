"""What a rule-set derives from itself, computed on first use and kept with it (private).

A :class:`~flowmatch.ruleset.RuleSet` is frozen; what is computed from it — the compiled matcher,
the solved questionnaire, the search index, resolved flows, the baseline figures — lives in one
typed :class:`Derived` object per rule-set (``ruleset.derived``), not in a string-keyed memo.
Each slot is written by exactly one module, through the ``*_for`` function named beside it:

=============================  ==================================================
slot                           written by
=============================  ==================================================
``matcher``                    :func:`flowmatch.matcher.matcher_for`
``wizard``                     :func:`flowmatch.wizard.wizard_for`
``wizard_profile_attributes``  ``flowmatch.wizard._profile_attributes``
``wizard_days``                ``flowmatch.wizard._working_days``
``search_index``               :func:`flowmatch.search.index_for`
``flow_graphs``                :func:`flowmatch.flows.flow_graph`
``resolved``                   :func:`flowmatch.flows.resolve`
``baseline_figures``           ``flowmatch.render._baseline``
``flow_materials``             ``flowmatch.materials._flow_materials``
``notice_parts``               ``flowmatch.render._flow_parts``
=============================  ==================================================

Everything here is a pure function of the rule-set, so a cache is never stale; a pickled
rule-set (the on-disk cache) travels without it.  The slots keyed by a resolved flow
(``flow_materials``, ``notice_parts``) hold the flow itself beside what was computed from it (so
its ``id`` cannot be reused while the entry lives) and keep at most :data:`FLOW_LIMIT` entries
(:func:`per_flow`): a caller's own hand-made flows cannot make them grow without bound.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import networkx as nx

    from .flows import ResolvedFlow
    from .matcher import Matcher
    from .search import SearchIndex
    from .wizard import Wizard

__all__ = ["FLOW_LIMIT", "Derived", "per_flow"]

FLOW_LIMIT = 256
"""Entries kept per flow-keyed slot: a notice's parts take about 90 KB per flow and language, so at
most about 25 MB; the flows a service prints from day to day are far fewer."""

ResolvedKey = tuple[str, tuple[tuple[str, str], ...], tuple[tuple[str, bool], ...], tuple[tuple[str, str], ...]]
DaysKey = tuple[str, tuple[tuple[str, bool], ...], tuple[tuple[str, str], ...]]


@dataclass(slots=True, eq=False)
class Derived:
    """The per-rule-set cache (mutable on purpose: it only ever fills)."""

    matcher: Matcher | None = None
    wizard: Wizard | None = None
    search_index: SearchIndex | None = None
    wizard_profile_attributes: frozenset[str] | None = None
    wizard_days: dict[DaysKey, tuple[float | None, float | None]] = field(default_factory=dict)
    flow_graphs: dict[str, nx.DiGraph[str]] = field(default_factory=dict)
    resolved: dict[ResolvedKey, ResolvedFlow] = field(default_factory=dict)
    baseline_figures: tuple[dict[str, Any] | None] | None = None
    """Computed once (a one-tuple, since the figures themselves may be ``None``)."""
    flow_materials: dict[Hashable, tuple[ResolvedFlow, Any]] = field(default_factory=dict)
    """Per resolved flow: which step asks or is issued each material (``materials._flow_materials``)."""
    notice_parts: dict[Hashable, tuple[ResolvedFlow, Any]] = field(default_factory=dict)
    """Per resolved flow and language: what a notice says that no applicant changes (``render._flow_parts``)."""


V = TypeVar("V")


def per_flow(
    cache: dict[Hashable, tuple[ResolvedFlow, Any]], flow: ResolvedFlow, key: Hashable, build: Callable[[], V]
) -> V:
    """``build()``, computed once per ``flow`` (by identity) and ``key`` and kept in ``cache``.

    The entry holds the flow, so no other object can take its ``id`` while the entry lives; the
    oldest entry goes when :data:`FLOW_LIMIT` are kept.  Safe to call from several threads (at worst
    two compute the same value)."""
    full = (id(flow), key)
    entry = cache.get(full)
    if entry is not None and entry[0] is flow:
        found: V = entry[1]
        return found
    value = build()
    try:
        while len(cache) >= FLOW_LIMIT:
            cache.pop(next(iter(cache)), None)
    except (RuntimeError, StopIteration):  # another thread changed the cache meanwhile: it stays bounded
        pass
    cache[full] = (flow, value)
    return value
