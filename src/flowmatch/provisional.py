"""What an applicant who answered "not sure" can already rely on: the provisional notice.

When some answers are 不确定 and several flows remain (an ``undetermined``
:class:`~flowmatch.wizard.Outcome`), :func:`provisional` gathers what every remaining flow has in
common — the range of counted working days (fastest and slowest flow), the materials every flow
asks for, the approval items every flow contains — and the "not sure" questions ordered by how
much answering them would settle (fewest flows left first).  The web page renders it as a
provisional one-time notice for the common part.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import InputError
from .ruleset import RuleSet, default_ruleset
from .wizard import Candidate, Outcome, wizard_for

__all__ = ["CommonMaterial", "Provisional", "provisional"]


@dataclass(frozen=True)
class CommonMaterial:
    """A material every remaining flow asks for (as the fastest flow lists it)."""

    id: str
    name: str
    name_en: str | None
    source: str
    original: int
    copies: int
    condition: str | None


@dataclass(frozen=True)
class Provisional:
    """The common part of every flow still possible for an undetermined outcome."""

    flows: tuple[Candidate, ...]
    fastest: Candidate | None
    slowest: Candidate | None
    materials: tuple[CommonMaterial, ...]
    items: tuple[str, ...]
    settling: tuple[tuple[str, float], ...]
    may_not_apply: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "flows": [c.to_dict() for c in self.flows],
            "fastest": self.fastest.to_dict() if self.fastest else None,
            "slowest": self.slowest.to_dict() if self.slowest else None,
            "materials": [m.__dict__ for m in self.materials],
            "items": list(self.items),
            "settling": [{"attribute": a, "flows_left": round(n, 2)} for a, n in self.settling],
            "may_not_apply": list(self.may_not_apply),
        }


def provisional(outcome: Outcome, answers: Mapping[str, str], ruleset: RuleSet | None = None) -> Provisional:
    """The common part of the flows an ``undetermined`` outcome leaves (see the module doc)."""
    from .flows import for_situation
    from .materials import consolidate

    if outcome.status != "undetermined":
        raise InputError(f"only an undetermined outcome has a provisional notice; this one is {outcome.status}")
    rs = ruleset or default_ruleset()
    known = dict(outcome.answered)
    flows: dict[str, Candidate] = {}
    for c in outcome.situations:  # one row per flowchart: situations sharing one are the same flow
        if c.flowchart is not None and c.flowchart not in flows:
            flows[c.flowchart] = c
    rows = sorted(flows.values(), key=lambda c: (c.working_days is None, c.working_days or 0, c.rule))
    common_materials: dict[str, CommonMaterial] | None = None
    common_items: list[str] | None = None
    for c in rows:
        flow = for_situation(rs, c.rule, flags=outcome.flags, profile=known)
        listed = consolidate(flow, rs)
        mats = {
            m.id: CommonMaterial(m.id, m.name, _name_en(rs, m.id), m.source, m.original, m.copies, m.condition)
            for m in listed.before_construction
        }
        items = [s.item.id for s in flow.approval_steps]
        if common_materials is None or common_items is None:
            common_materials, common_items = mats, items
        else:
            common_materials = {k: v for k, v in common_materials.items() if k in mats}
            common_items = [i for i in common_items if i in items]
    timed = [c for c in rows if c.working_days is not None]
    return Provisional(
        flows=tuple(rows),
        fastest=min(timed, key=lambda c: (c.working_days, c.rule)) if timed else None,
        slowest=max(timed, key=lambda c: (c.working_days, c.rule)) if timed else None,
        materials=tuple((common_materials or {}).values()),
        items=tuple(dict.fromkeys(common_items or [])),
        settling=wizard_for(rs).settling(answers),
        may_not_apply=tuple(c.rule for c in outcome.candidates if c.kind == "not_applicable"),
    )


def _name_en(rs: RuleSet, material: str) -> str | None:
    found = rs.materials.get(material)
    return found.name_en if found is not None else None
