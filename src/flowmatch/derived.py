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
=============================  ==================================================

Everything here is a pure function of the rule-set, so a cache is never stale; a pickled
rule-set (the on-disk cache) travels without it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import networkx as nx

    from .flows import ResolvedFlow
    from .matcher import Matcher
    from .search import SearchIndex
    from .wizard import Wizard

__all__ = ["Derived"]

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
