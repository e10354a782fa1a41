"""The item map: how a rule-set's approval items descend from the rule-set it supersedes.

``itemmap.yaml`` sits in the *new* rule-set.  Each old item has one entry naming its change —
``same``, ``renamed``, ``merged_into``, ``split_into``, ``abolished``, ``became_commitment`` — and each
item that did not exist before is ``new``.  ``also`` lists the properties that changed beside the
named change (limit, materials, fees, intermediaries), each backed by a source.  ``flowcharts``
names per-flowchart changes (items dropped from one flow only; a new flowchart and the old ones it
takes profiles from); ``attributes`` maps the questions where the two rule-sets ask differently.

The loader validates the new side (every target exists here; every item here is accounted for);
:func:`check_against` validates the old side once both rule-sets are loaded.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .models import Id, Model, Text

__all__ = [
    "AttributeMapping",
    "FlagMapping",
    "FlowchartChange",
    "ItemChange",
    "ItemMap",
    "check_against",
    "new_side_problems",
]

ChangeKind = Literal["same", "renamed", "merged_into", "split_into", "abolished", "became_commitment", "new"]
Property = Literal["limit", "materials", "fees", "intermediaries", "members", "department", "counted"]


class ItemChange(Model):
    change: ChangeKind
    into: list[Id] = Field([], description="merged_into: the one item; split_into: two or more")
    also: list[Property] = Field([], description="properties that changed beside the named change")
    note: str | None = None
    source: list[Id] = Field(default_factory=list)


class FlowchartChange(Model):
    change: Literal["same", "new"] = "same"
    taken_from: list[Id] = Field([], description="new: the old flowcharts whose profiles may move here")
    dropped: list[Id] = Field([], description="items dropped from this flowchart only")
    added: list[Id] = Field([], description="items added to this flowchart only")
    note: str | None = None
    source: list[Id] = Field(min_length=1)


class AttributeMapping(Model):
    """``new: true`` — asked by the new rule-set only (old profiles are compared under each value);
    ``to``/``values`` — an old question renamed, or its values renamed."""

    new: bool = False
    to: Id | None = None
    values: dict[Id, Id] = Field(default_factory=dict)
    note: str | None = None


class FlagMapping(Model):
    """A flag only the new rule-set has, and the old items it switches off when set."""

    new: bool = True
    drops: list[Id] = Field(default_factory=list)
    note: str | None = None
    source: list[Id] = Field(min_length=1)


class ItemMap(Model):
    supersedes: Text = Field(description="the rule-set (directory name) the map starts from")
    attributes: dict[Id, AttributeMapping] = Field(default_factory=dict)
    departments: dict[Id, Id] = Field({}, description="old department -> the department that took it over")
    flags: dict[Id, FlagMapping] = Field(default_factory=dict)
    items: dict[Id, ItemChange]
    flowcharts: dict[Id, FlowchartChange] = Field(default_factory=dict)


def new_side_problems(
    item_map: ItemMap,
    flags: set[str],
    departments: set[str],
    items: set[str],
    flowcharts: set[str],
    attributes: set[str],
    sources: set[str],
) -> list[tuple[tuple[str | int, ...], str]]:
    """Problems visible from the new rule-set alone, as (key path, message)."""
    out: list[tuple[tuple[str | int, ...], str]] = []
    for old, new in item_map.departments.items():
        if new not in departments:
            out.append((("departments", old), f"unknown department {new!r} in this rule-set"))
    targets: set[str] = set()
    for iid, entry in item_map.items.items():
        base: tuple[str | int, ...] = ("items", iid)
        kind = entry.change
        if kind == "merged_into" and len(entry.into) != 1:
            out.append(((*base, "into"), "merged_into names exactly one item"))
        if kind == "split_into" and len(entry.into) < 2:
            out.append(((*base, "into"), "split_into names two or more items"))
        if kind not in ("merged_into", "split_into") and entry.into:
            out.append(((*base, "into"), f"only merged_into and split_into take 'into', not {kind}"))
        for i, target in enumerate(entry.into):
            targets.add(target)
            if target not in items:
                out.append(((*base, "into", i), f"unknown item {target!r} in this rule-set"))
        kept = kind in ("same", "renamed", "became_commitment", "new")
        if kept and iid not in items:
            out.append((base, f"{kind} item {iid!r} is not in this rule-set"))
        if not kept and iid in items and iid not in entry.into:
            out.append((base, f"{kind} item {iid!r} is still in this rule-set"))
        for i, src in enumerate(entry.source):
            if src not in sources:
                out.append(((*base, "source", i), f"unknown source {src!r}"))
        if kind != "same" and not entry.source:
            out.append(((*base, "source"), f"a {kind} change needs its source (or reconstruction)"))
    accounted = targets | {i for i, e in item_map.items.items() if e.change != "abolished"}
    for iid in sorted(items - accounted):
        out.append((("items",), f"item {iid} of this rule-set has no entry (same, renamed, new, or a target)"))
    for fid, change in item_map.flowcharts.items():
        base = ("flowcharts", fid)
        if fid not in flowcharts:
            out.append((base, f"unknown flowchart {fid!r} in this rule-set"))
        if change.change == "new" and not change.taken_from:
            out.append(((*base, "taken_from"), "a new flowchart names the old flowcharts it takes profiles from"))
        for i, src in enumerate(change.source):
            if src not in sources:
                out.append(((*base, "source", i), f"unknown source {src!r}"))
    for fid, flag in item_map.flags.items():
        if fid not in flags:
            out.append((("flags", fid), f"unknown flag {fid!r} in this rule-set"))
        for i, src in enumerate(flag.source):
            if src not in sources:
                out.append((("flags", fid, "source", i), f"unknown source {src!r}"))
    for aid, mapping in item_map.attributes.items():
        target = mapping.to or aid
        if target not in attributes:
            out.append((("attributes", aid), f"unknown attribute {target!r} in this rule-set"))
    return out


def check_against(
    item_map: ItemMap,
    old_items: set[str],
    old_flowcharts: set[str],
    old_attributes: set[str],
    old_departments: set[str],
) -> list[str]:
    """Problems visible only beside the old rule-set: unknown old ids, old items with no entry."""
    out: list[str] = []
    for old in item_map.departments:
        if old not in old_departments:
            out.append(f"item map: department {old!r} is not in {item_map.supersedes}")
    for iid, entry in item_map.items.items():
        if entry.change != "new" and iid not in old_items:
            out.append(f"item map: {entry.change} item {iid!r} is not in {item_map.supersedes}")
        if entry.change == "new" and iid in old_items:
            out.append(f"item map: item {iid!r} is marked new but {item_map.supersedes} has it")
    for iid in sorted(old_items - set(item_map.items)):
        out.append(f"item map: item {iid} of {item_map.supersedes} has no entry")
    for fid, change in item_map.flowcharts.items():
        for old in change.taken_from:
            if old not in old_flowcharts:
                out.append(f"item map: flowchart {fid} takes profiles from unknown {old!r}")
    for aid, mapping in item_map.attributes.items():
        if not mapping.new and aid not in old_attributes:
            out.append(f"item map: attribute {aid!r} is not in {item_map.supersedes}")
    return out
