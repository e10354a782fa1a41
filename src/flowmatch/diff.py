"""``flowmatch diff A B``: what changes, for every project both rule-sets can answer, and why.

The profile space is the checker's enumeration (:class:`flowmatch.checker.Space`) over the union
of both rule-sets' questions: old questions as the old rule-set asks them, plus the questions only
the new one asks (``attributes`` of the item map; an old profile is compared under each of their
values).  Every rule of A is intersected with every rule of B as bitsets, so each cell is one
pair of outcomes; a cell is split further only by the answers that switch steps or materials on
and off.  Each cell is then compared item by item:

* items gone from the flow must be ``abolished`` or ``merged_into``/``split_into`` an item the new
  flow has (or dropped from that flowchart by the map's ``flowcharts`` entry);
* items new to the flow must be ``new`` or the target of a merge from an item the old flow had;
* items on both sides may change only what their entry allows (``became_commitment``: the limit;
  a merge target: everything it absorbed; ``also``: what it lists);
* a profile that moves to another flowchart must move to a ``new`` flowchart that names the old
  one in ``taken_from``.

Anything else is *unexplained*, and ``diff`` exits 1.  Comparing a rule-set with an edited copy of
itself needs no map: every item is ``same``, so every edit shows up as unexplained — the gate a
rule author runs before publishing.  Cells with the same change are grouped.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from .calendar import plain_days
from .checker import Space
from .conditions import Value
from .errors import InputError
from .flows import ResolvedFlow, resolve
from .itemmap import ItemChange, ItemMap, check_against
from .ruleset import RuleSet
from .scheduler import schedule

__all__ = ["DiffGroup", "DiffReport", "Outcome", "diff_rulesets", "under_each"]

_SAME = ItemChange(change="same")


@dataclass(frozen=True)
class Outcome:
    """One side of a cell: the rule that holds and, when matched, the resolved flow's figures."""

    rule: str
    status: str  # matched | not_applicable | none
    flowchart: str | None = None
    steps: int = 0
    requisites: int = 0
    working_days: float = 0.0
    elapsed_working_days: float = 0.0
    fees: tuple[str, ...] = ()
    intermediaries: tuple[str, ...] = ()
    materials: frozenset[str] = frozenset()

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "status": self.status,
            "flowchart": self.flowchart,
            "steps": self.steps,
            "requisites": self.requisites,
            "working_days": plain_days(self.working_days),
            "elapsed_working_days": plain_days(self.elapsed_working_days),
            "fees": list(self.fees),
            "intermediaries": list(self.intermediaries),
        }


@dataclass(frozen=True)
class Change:
    """What changed in one cell, by name (hashable: cells with equal changes are grouped)."""

    before: Outcome
    after: Outcome
    removed: tuple[tuple[str, str], ...] = ()  # (item, how: abolished / dropped / new flowchart / unexplained)
    merged: tuple[tuple[str, str], ...] = ()  # (old item, into)
    added: tuple[tuple[str, str], ...] = ()  # (item, how)
    commitments: tuple[str, ...] = ()
    changed: tuple[tuple[str, str, str], ...] = ()  # (item, property, "before → after")
    unexplained: tuple[str, ...] = ()

    @property
    def moved(self) -> bool:
        b, a = self.before, self.after
        return bool(
            self.removed or self.merged or self.added or self.commitments or self.changed or self.unexplained
        ) or (b.rule, b.status, b.flowchart, b.working_days, b.elapsed_working_days, b.materials, b.fees) != (
            a.rule,
            a.status,
            a.flowchart,
            a.working_days,
            a.elapsed_working_days,
            a.materials,
            a.fees,
        )


@dataclass
class DiffGroup:
    change: Change
    profiles: int = 0
    example: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        c = self.change
        return {
            "profiles": self.profiles,
            "example": self.example,
            "before": c.before.to_dict(),
            "after": c.after.to_dict(),
            "flowchart": f"{c.before.flowchart or c.before.rule} → {c.after.flowchart or c.after.rule}",
            "steps_removed": [{"item": i, "how": h} for i, h in c.removed],
            "steps_merged": [{"item": i, "into": t} for i, t in c.merged],
            "steps_added": [{"item": i, "how": h} for i, h in c.added],
            "became_commitment": list(c.commitments),
            "items_changed": [{"item": i, "property": p, "change": t} for i, p, t in c.changed],
            "materials_no_longer_asked": sorted(c.before.materials - c.after.materials),
            "materials_newly_asked": sorted(c.after.materials - c.before.materials),
            "working_days": [plain_days(c.before.working_days), plain_days(c.after.working_days)],
            "elapsed_working_days": [
                plain_days(c.before.elapsed_working_days),
                plain_days(c.after.elapsed_working_days),
            ],
            "fees": [len(c.before.fees), len(c.after.fees)],
            "fees_removed": sorted(set(c.before.fees) - set(c.after.fees)),
            "fees_added": sorted(set(c.after.fees) - set(c.before.fees)),
            "intermediaries": [len(c.before.intermediaries), len(c.after.intermediaries)],
            "intermediaries_removed": sorted(set(c.before.intermediaries) - set(c.after.intermediaries)),
            "intermediaries_added": sorted(set(c.after.intermediaries) - set(c.before.intermediaries)),
            "unexplained": list(c.unexplained),
        }


@dataclass
class DiffReport:
    """Result of :func:`diff_rulesets`. ``ok`` when every change is explained by the item map."""

    old: str
    new: str
    item_map: bool
    profiles: int
    compared: int
    answerable_by_one_only: int
    changed: int
    groups: list[DiffGroup]
    summary: list[dict[str, Any]]
    problems: list[str] = field(default_factory=list)

    @property
    def unexplained(self) -> int:
        return sum(g.profiles for g in self.groups if g.change.unexplained)

    @property
    def ok(self) -> bool:
        return not self.unexplained and not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "old": self.old,
            "new": self.new,
            "item_map": self.item_map,
            "ok": self.ok,
            "profiles": self.profiles,
            "compared": self.compared,
            "coverage": round(self.compared / self.profiles, 6) if self.profiles else 1.0,
            "answerable_by_one_only": self.answerable_by_one_only,
            "changed": self.changed,
            "unchanged": self.compared - self.changed,
            "unexplained": self.unexplained,
            "problems": list(self.problems),
            "summary": self.summary,
            "groups": [g.to_dict() for g in self.groups],
        }


# --- the profile space --------------------------------------------------------------------------------
@dataclass
class _Attr:
    values: dict[str, Any]


@dataclass
class _Shape:
    attributes: dict[str, _Attr]


class _Union:
    """The union of both rule-sets' questions, and the translation of new-side leaves into it."""

    def __init__(self, old: RuleSet, new: RuleSet, item_map: ItemMap | None) -> None:
        mappings = item_map.attributes if item_map else {}
        self.to_old: dict[str, tuple[str, dict[str, str]]] = {}  # new attribute -> (space attribute, value map)
        attrs: dict[str, _Attr] = {aid: _Attr(dict(a.values)) for aid, a in old.attributes.items()}
        for aid, mapping in mappings.items():
            if not mapping.new:
                target = mapping.to or aid
                reverse = {nv: ov for ov, nv in mapping.values.items()}
                self.to_old[target] = (aid, reverse)
        for aid, attr in new.attributes.items():
            if aid in self.to_old:
                continue
            if aid in attrs:
                self.to_old[aid] = (aid, {})
            else:
                attrs[aid] = _Attr(dict(attr.values))
                self.to_old[aid] = (aid, {})
        self.space = Space(cast(RuleSet, _Shape(attrs)))
        self.old_attrs = set(old.attributes)
        self.new_only = [a for a in attrs if a not in old.attributes]

    def old_leaf(self, attribute: str, values: frozenset[Value]) -> int:
        return self.space.leaf_bits(attribute, values)

    def new_leaf(self, attribute: str, values: frozenset[Value]) -> int:
        target, reverse = self.to_old.get(attribute, (attribute, {}))
        return self.space.leaf_bits(target, frozenset(reverse.get(str(v), str(v)) for v in values))

    def new_profile(self, profile: Mapping[str, str], new: RuleSet) -> dict[str, str]:
        out = {}
        for aid in new.attributes:
            target, reverse = self.to_old.get(aid, (aid, {}))
            forward = {ov: nv for nv, ov in reverse.items()}
            if target in profile:
                out[aid] = forward.get(profile[target], profile[target])
        return out


def _rule_bits(ruleset: RuleSet, leaf: Any, full: int) -> dict[str, int]:
    conds = {sid: s.when for sid, s in ruleset.situations.items()}
    conds.update({nid: n.when for nid, n in ruleset.not_applicable.items()})
    return {rid: cond.bits(leaf, full) for rid, cond in conds.items()}


def _cond_attributes(ruleset: RuleSet) -> list[str]:
    """Attributes that switch steps or materials on and off (flags are fixed per diff)."""
    seen: dict[str, None] = {}
    conds = [s.when for f in ruleset.flowcharts.values() for s in f.steps.values() if s.when is not None]
    conds += [m.when for m in ruleset.materials.values() if m.when is not None]
    for cond in conds:
        for leaf in cond.leaves():
            if leaf.attribute in ruleset.attributes:
                seen[leaf.attribute] = None
    return list(seen)


# --- one side of a cell ---------------------------------------------------------------------------------
def _outcome(
    ruleset: RuleSet, rule: str, profile: Mapping[str, str], flags: Mapping[str, bool]
) -> tuple[Outcome, ResolvedFlow | None]:
    sit = ruleset.situations.get(rule)
    if sit is None:
        return Outcome(rule, "not_applicable"), None
    known = {k: v for k, v in flags.items() if k in ruleset.flags}  # a flag only the other rule-set asks
    flow = resolve(ruleset, sit.flowchart, variants=sit.variants, flags=known, profile=profile)
    sched = schedule(flow, ruleset=ruleset)
    produced = {p for s in flow.steps.values() for p in s.produces}
    approval = flow.approval_steps
    materials = frozenset(m for s in flow.steps.values() for m in s.materials if m not in produced)
    return (
        Outcome(
            rule,
            "matched",
            sit.flowchart,
            len(approval),
            flow.requisites,
            sched.working_days,
            sched.elapsed_working_days,
            tuple(sorted(f.name for s in flow.steps.values() for f in s.item.fees if f.administrative)),
            tuple(sorted(m.kind for s in flow.steps.values() for m in s.item.intermediaries)),
            materials,
        ),
        flow,
    )


def _item_props(flow: ResolvedFlow, departments: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """Per item: the properties a change can touch (old departments read as their successors)."""
    out: dict[str, dict[str, Any]] = {}
    for s in flow.steps.values():
        p = out.setdefault(
            s.item.id,
            {"limit": [], "counted": [], "materials": set(), "members": set(), "fees": [], "intermediaries": []},
        )
        p["limit"].append(plain_days(s.duration))
        p["counted"].append(s.counted)
        p["materials"].update(s.materials)
        p["members"].update(departments.get(m, m) for m in s.members)
    for s in flow.steps.values():
        p = out[s.item.id]
        p["fees"] = sorted(f.name for f in s.item.fees)
        p["intermediaries"] = sorted(m.kind for m in s.item.intermediaries)
    for p in out.values():
        p["limit"] = sorted(p["limit"])
        p["counted"] = sorted(p["counted"])
        p["materials"] = sorted(p["materials"])
        p["members"] = sorted(p["members"])
    return out


def _show(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return str(value)


def _compare(
    old_rs: RuleSet,
    new_rs: RuleSet,
    item_map: ItemMap | None,
    before: Outcome,
    old_flow: ResolvedFlow | None,
    after: Outcome,
    new_flow: ResolvedFlow | None,
    flags: Mapping[str, bool],
) -> Change:
    entries = item_map.items if item_map else {}
    switched: dict[str, str] = {}  # old item -> the new-only flag that switches it off
    for fid, flag in (item_map.flags if item_map else {}).items():
        if flags.get(fid):
            switched.update(dict.fromkeys(flag.drops, fid))
    unexplained: list[str] = []
    if old_flow is None or new_flow is None:
        if (before.status, before.rule) != (after.status, after.rule) and not (
            before.status == after.status == "not_applicable"
        ):
            unexplained.append(f"{before.status} {before.rule} → {after.status} {after.rule}")
        return Change(before, after, unexplained=tuple(unexplained))
    fchange = item_map.flowcharts.get(new_flow.id) if item_map else None
    new_track = fchange is not None and fchange.change == "new" and old_flow.id in fchange.taken_from
    if old_flow.id != new_flow.id and not new_track:
        unexplained.append(f"profiles move from flowchart {old_flow.id} to {new_flow.id}")
    dropped = set(fchange.dropped) if fchange else set()
    extra = set(fchange.added) if fchange else set()
    reorganised = item_map.departments if item_map else {}
    old_items, new_items = _item_props(old_flow, reorganised), _item_props(new_flow, {})
    absorbed: dict[str, list[str]] = {}  # new item -> old items of this flow merged into it
    for iid in old_items:
        entry = entries.get(iid, _SAME)
        if entry.change in ("merged_into", "split_into"):
            for target in entry.into:
                absorbed.setdefault(target, []).append(iid)
    removed, merged, added, commitments, changed = [], [], [], [], []
    for iid in old_items:
        if iid in new_items:
            continue
        entry = entries.get(iid, _SAME)
        if entry.change == "abolished":
            removed.append((iid, "abolished"))
        elif entry.change in ("merged_into", "split_into") and any(t in new_items for t in entry.into):
            merged.append((iid, "+".join(t for t in entry.into if t in new_items)))
        elif iid in dropped:
            removed.append((iid, f"dropped from {new_flow.id}"))
        elif iid in switched:
            removed.append((iid, f"switched off by {switched[iid]}"))
        elif new_track:
            removed.append((iid, f"not in the new flowchart {new_flow.id}"))
        else:
            removed.append((iid, "unexplained"))
            unexplained.append(f"{iid} is no longer in the flow ({entry.change} in the item map)")
    for iid in new_items:
        if iid in old_items:
            continue
        entry = entries.get(iid, _SAME)
        if entry.change == "new":
            added.append((iid, "new"))
        elif iid in absorbed:
            added.append((iid, "merge of " + "+".join(absorbed[iid])))
        elif iid in extra:
            added.append((iid, f"added to {new_flow.id}"))
        elif new_track:
            added.append((iid, f"in the new flowchart {new_flow.id}"))
        else:
            added.append((iid, "unexplained"))
            unexplained.append(f"{iid} is new in the flow but the item map does not say why")
    for iid in old_items:
        if iid not in new_items:
            continue
        entry = entries.get(iid, _SAME)
        allowed = set(entry.also)
        if entry.change == "became_commitment":
            allowed |= {"limit"}
        if iid in absorbed or new_track:
            allowed |= {"limit", "materials", "members", "fees", "intermediaries", "counted"}
        a, b = old_items[iid], new_items[iid]
        for prop in ("limit", "counted", "materials", "members", "fees", "intermediaries"):
            if a[prop] == b[prop]:
                continue
            text = f"{_show(a[prop])} → {_show(b[prop])}"
            if entry.change == "became_commitment" and prop == "limit":
                commitments.append(iid)
            else:
                changed.append((iid, prop, text))
            if prop not in allowed:
                unexplained.append(f"{iid}: {prop} {text} is not explained by the item map")
    structural = not (removed or merged or added or changed or commitments)
    if structural and (before.working_days, before.elapsed_working_days) != (
        after.working_days,
        after.elapsed_working_days,
    ):
        unexplained.append("the working days changed with the same steps: the order of the steps changed")
    return Change(
        before,
        after,
        tuple(sorted(removed)),
        tuple(sorted(merged)),
        tuple(sorted(added)),
        tuple(sorted(commitments)),
        tuple(sorted(changed)),
        tuple(unexplained),
    )


# --- the report ------------------------------------------------------------------------------------------
def _parse_profile(
    profile: Mapping[str, Any] | None, union: _Union, old: RuleSet, new: RuleSet
) -> tuple[int, dict[str, bool]]:
    mask = union.space.full
    flags: dict[str, bool] = {}
    allowed_flags = {*old.flags, *new.flags}
    for key, value in (profile or {}).items():
        if key in union.space.attributes:
            i = union.space.attributes.index(key)
            if str(value) not in union.space.values[i]:
                raise InputError(f"unknown value {value!r} of {key}", allowed=union.space.values[i])
            mask &= union.space.leaf_bits(key, frozenset({str(value)}))
        elif key in allowed_flags:
            flags[key] = str(value).lower() in ("true", "1", "yes")
        else:
            raise InputError(
                f"unknown attribute or flag {key!r}", allowed=[*union.space.attributes, *sorted(allowed_flags)]
            )
    return mask, flags


def _partitions(rs: RuleSet, attrs: list[str], union: _Union, leaf: Any) -> list[tuple[dict[str, str], int]]:
    """(profile restriction, bits) for each combination of the answers that switch steps on and off;
    an answer its ``asked_when`` excludes is left out of the restriction, as a questionnaire would."""
    full = union.space.full
    dims: list[list[tuple[str | None, str, int]]] = []
    for aid in attrs:
        asked = rs.attributes[aid].asked_when
        asked_bits = asked.bits(leaf, full) if asked is not None else full
        options: list[tuple[str | None, str, int]] = [(None, aid, full & ~asked_bits)] if asked_bits != full else []
        for value in rs.attributes[aid].values:
            options.append((value, aid, asked_bits & leaf(aid, frozenset({value}))))
        dims.append(options)
    out = []
    for combo in itertools.product(*dims):
        bits = full
        restriction: dict[str, str] = {}
        for answer, aid, b in combo:
            bits &= b
            if answer is not None:
                restriction[aid] = answer
        if bits:
            out.append((restriction, bits))
    return out


def _asked(profile: dict[str, str], old: RuleSet, new: RuleSet) -> dict[str, str]:
    """The example profile without the answers neither rule-set would ask for it."""
    out = {}
    for aid, value in profile.items():
        asked = [rs.attributes[aid].asked_when for rs in (old, new) if aid in rs.attributes]
        if any(cond is None or cond.holds(profile) is not False for cond in asked):
            out[aid] = value
    return out


def _averages(outcomes: list[tuple[Outcome, int]]) -> dict[str, float]:
    matched = [(o, n) for o, n in outcomes if o.status == "matched"]
    total = sum(n for _, n in matched) or 1
    return {
        "steps": sum(o.steps * n for o, n in matched) / total,
        "requisites": sum(o.requisites * n for o, n in matched) / total,
        "working_days": sum(o.working_days * n for o, n in matched) / total,
        "elapsed_working_days": sum(o.elapsed_working_days * n for o, n in matched) / total,
        "fees": sum(len(o.fees) * n for o, n in matched) / total,
        "intermediaries": sum(len(o.intermediaries) * n for o, n in matched) / total,
    }


def _summary(old: RuleSet, new: RuleSet, cells: list[tuple[Change, int]]) -> list[dict[str, Any]]:
    from .stats import stats

    a, b = stats(ruleset=old), stats(ruleset=new)
    rows: list[dict[str, Any]] = []
    for key, label in (
        ("situations", "情形 situations"),
        ("flowcharts", "流程图 flowcharts"),
        ("avg_steps", "平均审批环节 avg steps (per flowchart)"),
        ("avg_requisites", "平均要件 avg requisites (per flowchart)"),
        ("avg_working_days", "平均工作日 avg working days (per flowchart)"),
    ):
        rows.append({"figure": key, "label": label, "old": a[key], "new": b[key]})
    fast_a, fast_b = a.get("fastest") or {}, b.get("fastest") or {}
    rows.append(
        {
            "figure": "fastest_working_days",
            "label": "最快 fastest working days",
            "old": fast_a.get("working_days"),
            "new": fast_b.get("working_days"),
        }
    )
    both = [(c, n) for c, n in cells if c.before.status == c.after.status == "matched"]
    pa = _averages([(c.before, n) for c, n in both])
    pb = _averages([(c.after, n) for c, n in both])
    for key, label in (
        ("steps", "审批环节 steps (per profile)"),
        ("requisites", "要件 requisites (per profile)"),
        ("working_days", "计时工作日 counted working days (per profile)"),
        ("elapsed_working_days", "含不计时 elapsed working days (per profile)"),
        ("fees", "行政事业性收费 fees (per profile)"),
        ("intermediaries", "中介服务 intermediaries (per profile)"),
    ):
        rows.append({"figure": f"profile_{key}", "label": label, "old": round(pa[key], 2), "new": round(pb[key], 2)})
    for row in rows:
        o, n = row["old"], row["new"]
        row["change"] = round(n - o, 2) if isinstance(o, (int, float)) and isinstance(n, (int, float)) else None
    return rows


def diff_rulesets(old: RuleSet, new: RuleSet, *, profile: Mapping[str, Any] | None = None) -> DiffReport:
    """Compare two rule-sets over every profile both can answer; see the module docstring."""
    item_map = new.item_map if new.item_map is not None and new.item_map.supersedes == old.path.name else None
    problems: list[str] = []
    if item_map is not None:
        problems = check_against(
            item_map, set(old.items), set(old.flowcharts), set(old.attributes), set(old.departments)
        )
    union = _Union(old, new, item_map)
    full = union.space.full
    mask, flags = _parse_profile(profile, union, old, new)
    old_bits = _rule_bits(old, union.old_leaf, full)
    new_bits = _rule_bits(new, union.new_leaf, full)
    old_parts = _partitions(old, _cond_attributes(old), union, union.old_leaf)
    new_attrs = [a for a in _cond_attributes(new)]
    new_parts = _partitions(new, new_attrs, union, union.new_leaf)
    groups: dict[Change, DiffGroup] = {}
    cells: list[tuple[Change, int]] = []
    compared = 0
    for a_id, a_bits in old_bits.items():
        a_bits &= mask
        if not a_bits:
            continue
        for b_id, b_bits in new_bits.items():
            both = a_bits & b_bits
            if not both:
                continue
            for old_restr, ob in old_parts:
                cell_a = both & ob
                if not cell_a:
                    continue
                before, old_flow = _outcome(old, a_id, old_restr, flags)
                for new_restr, nb in new_parts:
                    cell = cell_a & nb
                    if not cell:
                        continue
                    after, new_flow = _outcome(new, b_id, new_restr, flags)
                    change = _compare(old, new, item_map, before, old_flow, after, new_flow, flags)
                    count = cell.bit_count()
                    compared += count
                    cells.append((change, count))
                    group = groups.get(change)
                    if group is None:
                        example = _asked(union.space.profile((cell & -cell).bit_length() - 1), old, new)
                        group = groups[change] = DiffGroup(change, 0, example)
                    group.profiles += count
    total = mask.bit_count()
    changed_groups = [g for g in groups.values() if g.change.moved]
    changed_groups.sort(key=lambda g: (not g.change.unexplained, -g.profiles, g.change.before.rule))
    return DiffReport(
        old.path.name,
        new.path.name,
        item_map is not None,
        total,
        compared,
        total - compared,
        sum(g.profiles for g in changed_groups),
        changed_groups,
        _summary(old, new, cells),
        problems,
    )


def under_each(
    rulesets: list[RuleSet],
    profile: Mapping[str, Any],
    *,
    start: Any = None,
    calendar: Any = None,
) -> list[dict[str, Any]]:
    """One project under each rule-set ("under the 2014 rules / under the 2019 rules"): its match and,
    when matched, its schedule.  Flags (``key=true``) switch optional steps; answers a rule-set does
    not ask are ignored by it."""
    from .matcher import matcher_for

    out: list[dict[str, Any]] = []
    for rs in rulesets:
        answers = {k: v for k, v in profile.items() if k in rs.attributes}
        flags = {k: str(v).lower() in ("true", "1", "yes") for k, v in profile.items() if k in rs.flags}
        result = matcher_for(rs).match(answers)
        row: dict[str, Any] = {"ruleset": rs.path.name, "name": rs.name, "status": result.status}
        if result.status == "matched" and result.situation and result.flowchart:
            sit = rs.situations[result.situation]
            flow = resolve(rs, sit.flowchart, variants=sit.variants, flags=flags, profile=answers)
            sched = schedule(flow, start, calendar, ruleset=rs)
            row.update(
                situation=result.situation,
                flowchart=result.flowchart,
                flowchart_name=rs.flowcharts[result.flowchart].name,
                steps=len(flow.approval_steps),
                requisites=flow.requisites,
                schedule=sched.to_dict(),
            )
        elif result.status == "incomplete":
            row["missing"] = list(result.missing)
        elif result.status == "not_applicable":
            row["rule"] = result.rule
        out.append(row)
    return out
