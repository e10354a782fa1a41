"""``flowmatch check``: prove the rule-set complete and exclusive, and the flowcharts sound.

The attribute space (every combination of choice-attribute values) is enumerated as bitsets: each
condition compiles to one big integer whose bit *i* says whether it holds for combination *i*.
Gaps (no rule), overlaps (two rules) and unreachable situations fall out of a few AND/OR
operations; the compiled matcher is then walked for every single combination and must land on
the one rule the bitsets name.  Flowcharts are checked against the rule-set's invariants.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from math import prod
from typing import Any

import networkx as nx

from .conditions import Value
from .flows import flow_graph, is_completion
from .matcher import Matcher, matcher_for
from .ruleset import RuleSet


@dataclass(frozen=True)
class Finding:
    """One thing wrong with the rule-set, with a concrete example profile where one exists."""

    kind: str
    message: str
    example: dict[str, str] | None = None
    rules: tuple[str, ...] = ()
    count: int = 0
    where: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "where": self.where,
            "kind": self.kind,
            "message": self.message,
            "example": self.example,
            "rules": list(self.rules),
            "count": self.count,
        }


@dataclass(frozen=True)
class CheckReport:
    """Result of :func:`check`. ``ok`` is true when there are no findings."""

    combinations: int
    situations: int
    not_applicable: int
    flowcharts: int
    coverage: dict[str, int]
    by_category: dict[str, dict[str, int]]
    findings: tuple[Finding, ...] = field(default_factory=tuple)
    invariants_checked: int = 0

    @property
    def ok(self) -> bool:
        return not self.findings

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "combinations": self.combinations,
            "situations": self.situations,
            "not_applicable": self.not_applicable,
            "flowcharts": self.flowcharts,
            "coverage": self.coverage,
            "by_category": self.by_category,
            "invariants_checked": self.invariants_checked,
            "findings": [f.to_dict() for f in self.findings],
        }


class Space:
    """The product space of the choice attributes, indexed in mixed radix."""

    def __init__(self, ruleset: RuleSet) -> None:
        self.attributes = list(ruleset.attributes)
        self.values = [list(ruleset.attributes[a].values) for a in self.attributes]
        self.size = prod(len(v) for v in self.values)
        self.full = (1 << self.size) - 1
        self._strides = []
        stride = self.size
        for values in self.values:
            stride //= len(values)
            self._strides.append(stride)
        self._leaf: dict[tuple[str, str], int] = {}
        for i, attribute in enumerate(self.attributes):
            stride = self._strides[i]
            period = stride * len(self.values[i])
            for j, value in enumerate(self.values[i]):
                block = ((1 << stride) - 1) << (j * stride)
                self._leaf[(attribute, value)] = _repeat(block, period, self.size // period)

    def leaf_bits(self, attribute: str, values: frozenset[Value]) -> int:
        out = 0
        for value in values:
            out |= self._leaf.get((attribute, str(value)), 0)
        return out

    def profile(self, index: int) -> dict[str, str]:
        out = {}
        for i, attribute in enumerate(self.attributes):
            out[attribute] = self.values[i][(index // self._strides[i]) % len(self.values[i])]
        return out


def _repeat(block: int, period: int, times: int) -> int:
    """``block`` repeated ``times`` times every ``period`` bits (by doubling)."""
    out, width, count = block, period, 1
    result, shift = 0, 0
    while times:
        if times & 1:
            result |= out << shift
            shift += width * count
        out |= out << (width * count)
        count *= 2
        times >>= 1
    return result


def _lowest(bits: int) -> int:
    return (bits & -bits).bit_length() - 1


def check(ruleset: RuleSet) -> CheckReport:
    """Enumerate the attribute space and check every flowchart; see :class:`CheckReport`."""
    space = Space(ruleset)
    conds = {sid: s.when for sid, s in ruleset.situations.items()}
    conds.update({nid: n.when for nid, n in ruleset.not_applicable.items()})
    bits = {rid: cond.bits(space.leaf_bits, space.full) for rid, cond in conds.items()}
    findings: list[Finding] = []

    covered = 0
    multiple = 0
    for b in bits.values():
        multiple |= covered & b
        covered |= b
    gaps = space.full & ~covered
    if gaps:
        findings.append(
            Finding(
                "gap",
                f"{_plural(gaps.bit_count(), 'combination')} covered by no situation and no not-applicable rule",
                space.profile(_lowest(gaps)),
                count=gaps.bit_count(),
            )
        )
    ids = list(bits)
    for i, a in enumerate(ids):
        for b_id in ids[i + 1 :]:
            both = bits[a] & bits[b_id]
            if both:
                findings.append(
                    Finding(
                        "overlap",
                        f"{a} and {b_id} both hold for {_plural(both.bit_count(), 'combination')}",
                        space.profile(_lowest(both)),
                        (a, b_id),
                        both.bit_count(),
                    )
                )
    for rid, b in bits.items():
        if not b & ~multiple:
            findings.append(Finding("unreachable", f"{rid} is never the one rule that holds", None, (rid,)))

    matcher = matcher_for(ruleset)
    findings.extend(_walk_matcher(matcher, space, bits, multiple))
    findings.extend(_asked_when(ruleset, matcher))

    used = {s.flowchart for s in ruleset.situations.values()}
    for fid in ruleset.flowcharts:
        if fid not in used:
            findings.append(Finding("unused_flowchart", f"flowchart {fid} is selected by no situation", None, (fid,)))

    by_category: dict[str, dict[str, int]] = {}
    for cid, cat in ruleset.manifest.categories.items():
        flows = [f for f in ruleset.flowcharts.values() if f.category == cid]
        sits = [s for s in ruleset.situations.values() if ruleset.flowcharts[s.flowchart].category == cid]
        by_category[cid] = {
            "situations": len(sits),
            "flowcharts": len(flows),
            "expected_situations": cat.situations,
            "expected_flowcharts": cat.flowcharts,
        }
        if (len(sits), len(flows)) != (cat.situations, cat.flowcharts):
            findings.append(
                Finding(
                    "category_count",
                    f"category {cid} ({cat.label}) has {len(sits)} situations / "
                    f"{len(flows)} flowcharts; expected {cat.situations} / {cat.flowcharts}",
                    None,
                    (cid,),
                )
            )

    flow_findings, checked = _flowcharts(ruleset)
    findings.extend(flow_findings)
    from .stages import four_stage_findings  # the 2019 four-stage invariants, when the manifest declares them

    findings.extend(four_stage_findings(ruleset))
    findings = [_locate(ruleset, f) for f in findings]
    coverage = {rid: b.bit_count() for rid, b in bits.items()}
    return CheckReport(
        space.size,
        len(ruleset.situations),
        len(ruleset.not_applicable),
        len(ruleset.flowcharts),
        coverage,
        by_category,
        tuple(findings),
        checked,
    )


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def _locate(ruleset: RuleSet, finding: Finding) -> Finding:
    """Point a finding at the YAML it is about: its first rule or flowchart, else the situations file."""
    where = next((ruleset.locations[r] for r in finding.rules if r in ruleset.locations), None)
    if where is None and finding.kind == "gap":
        any_rule = next(iter(ruleset.situations), None)
        if any_rule in ruleset.locations:
            where = ruleset.locations[any_rule].rsplit(":", 2)[0] + ":1:1"
    return replace(finding, where=where) if where else finding


def _walk_matcher(matcher: Matcher, space: Space, bits: dict[str, int], multiple: int) -> list[Finding]:
    """Walk the compiled matcher for every combination; where exactly one rule holds, the
    matcher must land on it (gaps and overlaps are reported separately)."""
    owner: dict[int, str] = {}
    for rid, b in bits.items():
        while b:
            low = b & -b
            owner.setdefault(low.bit_length() - 1, rid)
            b ^= low
    out: list[Finding] = []
    for index in range(space.size):
        profile = space.profile(index)
        node = matcher.root
        while node.attribute is not None:
            node = node.children[profile[node.attribute]]
        expected = owner.get(index)
        if expected is None or multiple >> index & 1:
            continue
        got = node.rules[0] if len(node.rules) == 1 else None
        if got != expected and len(out) < 5:
            out.append(
                Finding(
                    "matcher", f"the compiled matcher gives {got} where the rules give {expected}", profile, (expected,)
                )
            )
    return out


def _asked_when(ruleset: RuleSet, matcher: Matcher) -> list[Finding]:
    """An attribute must never be needed where its ``asked_when`` says it is not asked."""
    out: list[Finding] = []
    seen: set[str] = set()
    for node in matcher.nodes():
        if node.attribute is None or node.attribute in seen:
            continue
        cond = ruleset.attributes[node.attribute].asked_when
        if cond is not None and cond.holds(node.assignment) is False:
            seen.add(node.attribute)
            out.append(
                Finding(
                    "asked_when",
                    f"{node.attribute} is needed to decide {sorted(node.reachable)[:6]} although "
                    f"its asked_when excludes this profile",
                    dict(node.assignment),
                    (node.attribute,),
                )
            )
    return out


def _flowcharts(ruleset: RuleSet) -> tuple[list[Finding], int]:
    out: list[Finding] = []
    checked = 0
    flows = dict(ruleset.flowcharts)
    for fid, flow in flows.items():
        if not flow.steps:
            out.append(Finding("flowchart", f"flowchart {fid} has no steps", None, (fid,)))
            continue
        graph = flow_graph(ruleset, flow)
        for sid in flow.steps:
            if is_completion(ruleset, flow, sid):
                continue
            for dep in flow.steps[sid].depends_on:
                if is_completion(ruleset, flow, dep):
                    out.append(
                        Finding(
                            "flowchart",
                            f"{fid}: pre-construction step {sid} depends on completion step {dep}",
                            None,
                            (fid,),
                        )
                    )
        items: dict[str, list[str]] = {}
        for sid, step in flow.steps.items():
            items.setdefault(step.item, []).append(sid)
            for variant in step.variants.values():
                items.setdefault(variant.item, []).append(sid)
        for vid, inv in ruleset.invariants.items():
            if inv.categories and flow.category not in inv.categories:
                continue
            checked += 1
            if inv.requires_any and not any(i in items for i in inv.requires_any):
                out.append(
                    Finding(
                        "invariant",
                        f"{fid} violates {vid}: {inv.description} (needs one of {', '.join(inv.requires_any)})",
                        None,
                        (fid, vid),
                    )
                )
            for banned in inv.forbids:
                if banned in items:
                    out.append(
                        Finding(
                            "invariant",
                            f"{fid} violates {vid}: {inv.description} (step {items[banned][0]} uses {banned})",
                            None,
                            (fid, vid),
                        )
                    )
            if inv.precedes:
                for first in inv.precedes.get("first", []):
                    for then in inv.precedes.get("then", []):
                        for a in items.get(first, []):
                            for b in items.get(then, []):
                                if a != b and not nx.has_path(graph, a, b):
                                    out.append(
                                        Finding(
                                            "invariant",
                                            f"{fid} violates {vid}: {inv.description} "
                                            f"(step {a} [{first}] must come before {b} [{then}])",
                                            None,
                                            (fid, vid),
                                        )
                                    )
    return out, checked
