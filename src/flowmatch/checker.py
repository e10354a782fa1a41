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
from .flows import is_completion, step_prerequisites
from .matcher import Matcher, matcher_for
from .models import Flowchart, Limit
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


def check(*, ruleset: RuleSet | None = None) -> CheckReport:
    """Enumerate the attribute space of a rule-set (default: the packaged one) and check every
    flowchart; see :class:`CheckReport`."""
    if ruleset is None:
        from .ruleset import default_ruleset

        ruleset = default_ruleset()
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
    findings.extend(_provenance_findings(ruleset, any(inv.provenance for inv in ruleset.invariants.values())))
    from .stages import four_stage_findings  # the 2019 four-stage invariants, when the manifest declares them

    findings.extend(four_stage_findings(ruleset))
    from .english import english_findings  # every free text's English twin, when the manifest declares English

    findings.extend(english_findings(ruleset))
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
    if finding.where is not None:
        return finding
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


def _configurations(flow: Flowchart) -> list[dict[str, str]]:
    """Every choice of step variants (the default counts as one choice), capped for safety."""
    configs: list[dict[str, str]] = [{}]
    for sid, step in flow.steps.items():
        if step.variants:
            configs = [{**c, **({sid: v} if v else {})} for c in configs for v in ("", *step.variants)]
            if len(configs) > 256:
                break
    return configs


def _step_items(flow: Flowchart, config: dict[str, str]) -> dict[str, str]:
    """step id -> the item it uses under a variant configuration."""
    out = {}
    for sid, step in flow.steps.items():
        chosen = config.get(sid)
        out[sid] = step.variants[chosen].item if chosen in step.variants else step.item
    return out


def _config_graph(flow: Flowchart, config: dict[str, str]) -> nx.DiGraph[str]:
    graph: nx.DiGraph[str] = nx.DiGraph()
    graph.add_nodes_from(flow.steps)
    for sid in flow.steps:
        for dep in step_prerequisites(flow, sid, config.get(sid, "")):
            graph.add_edge(dep, sid)
    return graph


def _step_materials(ruleset: RuleSet, flow: Flowchart, sid: str, config: dict[str, str]) -> list[str]:
    step = flow.steps[sid]
    chosen = step.variants.get(config.get(sid, ""))
    item = ruleset.items[chosen.item if chosen else step.item]
    out = [m for m in item.materials if m not in step.omits]
    for extra in (*(chosen.materials if chosen else ()), *step.materials):
        if extra not in out:
            out.append(extra)
    return out


def _at(ruleset: RuleSet, fid: str, sid: str, key: str = "depends_on") -> str | None:
    locations = ruleset.locations
    return locations.get(f"{fid}.{sid}.{key}") or locations.get(f"{fid}.{sid}") or locations.get(fid)


def _config_text(config: dict[str, str]) -> str:
    return f" (variant {', '.join(f'{k}={v}' for k, v in sorted(config.items()))})" if config else ""


def _flowcharts(ruleset: RuleSet) -> tuple[list[Finding], int]:
    out: list[Finding] = []
    checked = 0
    flows = dict(ruleset.flowcharts)

    def finding(fid: str, vid: str, message: str, where: str | None) -> None:
        out.append(Finding("invariant", message, None, (fid, vid), where=where))

    for fid, flow in flows.items():
        if not flow.steps:
            out.append(Finding("flowchart", f"flowchart {fid} has no steps", None, (fid,)))
            continue
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
                            where=_at(ruleset, fid, sid),
                        )
                    )
        items: dict[str, list[str]] = {}
        for sid, step in flow.steps.items():
            items.setdefault(step.item, []).append(sid)
            for variant in step.variants.values():
                items.setdefault(variant.item, []).append(sid)
        configs = [(c, _step_items(flow, c), _config_graph(flow, c)) for c in _configurations(flow)]
        for vid, inv in ruleset.invariants.items():
            if inv.categories and flow.category not in inv.categories:
                continue
            if inv.if_present and not any(i in items for i in inv.if_present):
                continue
            checked += 1
            if inv.requires_any and not any(i in items for i in inv.requires_any):
                finding(
                    fid,
                    vid,
                    f"{fid} violates {vid}: {inv.description} (needs one of {', '.join(inv.requires_any)})",
                    ruleset.locations.get(fid),
                )
            for banned in inv.forbids:
                if banned in items:
                    sid = items[banned][0]
                    finding(
                        fid,
                        vid,
                        f"{fid} violates {vid}: {inv.description} (step {sid} uses {banned})",
                        _at(ruleset, fid, sid, "item"),
                    )
            for sid, step in flow.steps.items():
                used = [step.item, *(v.item for v in step.variants.values())]
                dept = step.department
                for iid in dict.fromkeys(used):
                    where_dept = dept or ruleset.items[iid].department
                    if where_dept in inv.forbids_departments:
                        finding(
                            fid,
                            vid,
                            f"{fid} violates {vid}: {inv.description} (step {sid} [{iid}] is handled by {where_dept})",
                            _at(ruleset, fid, sid, "department" if dept else "item"),
                        )
                    allowed = inv.departments.get(iid)
                    if allowed and where_dept not in allowed:
                        finding(
                            fid,
                            vid,
                            f"{fid} violates {vid}: {inv.description} (step {sid} [{iid}] is handled by "
                            f"{where_dept}; allowed: {', '.join(allowed)})",
                            _at(ruleset, fid, sid, "department" if dept else "item"),
                        )
                    if inv.merged_absent and ruleset.items[iid].merged_into is not None:
                        finding(
                            fid,
                            vid,
                            f"{fid} violates {vid}: {inv.description} (step {sid} uses {iid}, merged into "
                            f"{ruleset.items[iid].merged_into})",
                            _at(ruleset, fid, sid, "item"),
                        )
            seen: set[Any] = set()
            for config, step_items, graph in configs:
                by_item: dict[str, list[str]] = {}
                for sid, iid in step_items.items():
                    by_item.setdefault(iid, []).append(sid)
                if inv.precedes:
                    for first in inv.precedes.get("first", []):
                        for then in inv.precedes.get("then", []):
                            for a in by_item.get(first, []):
                                for b in by_item.get(then, []):
                                    if a != b and not nx.has_path(graph, a, b) and (a, b) not in seen:
                                        seen.add((a, b))
                                        finding(
                                            fid,
                                            vid,
                                            f"{fid} violates {vid}: {inv.description} "
                                            f"(step {a} [{first}] must come before {b} [{then}])"
                                            f"{_config_text(config)}",
                                            _at(ruleset, fid, b),
                                        )
                if inv.issued_upstream:
                    out.extend(_issued_upstream(ruleset, fid, vid, config, step_items, graph, seen))
    return out, checked


def _issued_upstream(
    ruleset: RuleSet,
    fid: str,
    vid: str,
    config: dict[str, str],
    step_items: dict[str, str],
    graph: nx.DiGraph[str],
    seen: set[Any],
) -> list[Finding]:
    """A material a step asks that another step of the flowchart issues must come from an ancestor,
    unless it is 容缺 (supplied later, by a deadline the notice prints)."""
    flow = ruleset.flowcharts[fid]
    producers: dict[str, list[str]] = {}
    for sid, iid in step_items.items():
        for mid in ruleset.items[iid].produces:
            producers.setdefault(mid, []).append(sid)
    out = []
    for sid in flow.steps:
        ancestors = nx.ancestors(graph, sid)
        for mid in _step_materials(ruleset, flow, sid, config):
            issuers = [p for p in producers.get(mid, ()) if p != sid]
            if not issuers or ancestors.intersection(issuers) or ruleset.materials[mid].deficiency is not None:
                continue
            if (sid, mid) in seen:
                continue
            seen.add((sid, mid))
            out.append(
                Finding(
                    "invariant",
                    f"{fid} violates {vid}: step {sid} [{step_items[sid]}] asks for {mid} "
                    f"({ruleset.materials[mid].name}), which step {issuers[0]} [{step_items[issuers[0]]}] issues "
                    f"but is not upstream{_config_text(config)}",
                    None,
                    (fid, vid),
                    where=_at(ruleset, fid, sid),
                )
            )
    return out


# --- provenance and calibration bounds --------------------------------------------------------------
TAG_RECONSTRUCTION = "reconstruction"
TAG_CALIBRATED = "calibrated"


def _days_bound(limit: Limit) -> float | None:
    """The statutory limit as an upper bound in working days (calendar days bound working days too)."""
    if limit.value is None:
        return None
    if limit.unit in ("working_day", "day"):
        return limit.value
    if limit.unit == "month":
        return limit.value * 22
    return None


def _provenance_findings(ruleset: RuleSet, tags_required: bool) -> list[Finding]:
    """Every item limit, member list and fee, and every step override, carries a source tag;
    promised limits stay within the statutory limit and above any fixed minimum period."""
    out: list[Finding] = []
    loc = ruleset.locations

    def missing(where: str | None, what: str) -> None:
        out.append(Finding("provenance", what, where=where))

    for iid, item in ruleset.items.items():
        at = loc.get(f"item:{iid}")
        needs = ["promised"]
        if item.statutory.value is not None or item.statutory.unit == "on_the_spot":
            needs.append("statutory")
        if item.members:
            needs.append("members")
        if item.fees:
            needs.append("fees")
        for fact in needs if tags_required else ():
            if not item.provenance.get(fact):  # type: ignore[call-overload]
                missing(loc.get(f"item:{iid}.{fact}", at), f"item {iid}: {fact} has no source tag (provenance.{fact})")
        bound = _days_bound(item.statutory)
        if item.counted and bound is not None and item.promised > bound:
            out.append(
                Finding(
                    "calibration",
                    f"item {iid}: promised {item.promised:g} exceeds the statutory limit "
                    f"{item.statutory.value:g} ({item.statutory.unit})",
                    where=loc.get(f"item:{iid}.promised", at),
                )
            )
        minimum = item.statutory.minimum
        if minimum is not None and item.promised < minimum:
            out.append(
                Finding(
                    "calibration",
                    f"item {iid}: promised {item.promised:g} is below the statutory minimum period {minimum:g}",
                    where=loc.get(f"item:{iid}.promised", at),
                )
            )
    for fid, flow in ruleset.flowcharts.items() if tags_required else ():
        for sid, step in flow.steps.items():
            for fact, present in (("duration", step.duration is not None), ("members", bool(step.members))):
                if present and not step.provenance.get(fact):  # type: ignore[call-overload]
                    missing(
                        _at(ruleset, fid, sid, fact),
                        f"{fid}: step {sid} overrides {fact} without a source tag (provenance.{fact})",
                    )
    for sid, sit in ruleset.situations.items() if tags_required else ():
        if not sit.source:
            missing(loc.get(sid), f"situation {sid} has no source")
    return out


@dataclass(frozen=True)
class ProvenanceRow:
    """One fact of the rule-set and the sources it rests on."""

    what: str
    fact: str
    value: str
    tags: tuple[str, ...]
    where: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"what": self.what, "fact": self.fact, "value": self.value, "tags": list(self.tags), "where": self.where}


def provenance(
    ruleset: RuleSet, *, only: tuple[str, ...] = (TAG_RECONSTRUCTION, TAG_CALIBRATED)
) -> list[ProvenanceRow]:
    """The facts whose sources include one of ``only`` (default: what rests on reconstruction or
    calibration); an empty ``only`` lists every tagged fact."""
    rows: list[ProvenanceRow] = []
    loc = ruleset.locations

    def add(what: str, fact: str, value: str, tags: list[str], where: str | None) -> None:
        if not only or any(t in only for t in tags):
            rows.append(ProvenanceRow(what, fact, value, tuple(tags), where))

    for iid, item in ruleset.items.items():
        at = loc.get(f"item:{iid}")
        values = {
            "statutory": f"{item.statutory.value:g} {item.statutory.unit}"
            if item.statutory.value is not None
            else item.statutory.unit,
            "promised": f"{item.promised:g}",
            "members": ", ".join(item.members),
            "fees": "; ".join(f.name for f in item.fees),
        }
        for fact, tags in item.provenance.items():
            add(f"{iid} {item.name}", fact, values[fact], tags, loc.get(f"item:{iid}.{fact}", at))
    for fid, flow in ruleset.flowcharts.items():
        for sid, step in flow.steps.items():
            step_values = {
                "duration": f"{step.duration:g}" if step.duration is not None else "",
                "members": ", ".join(step.members),
                "department": step.department or "",
            }
            for step_fact, tags in step.provenance.items():
                add(f"{fid}.{sid}", step_fact, step_values[step_fact], tags, _at(ruleset, fid, sid, step_fact))
    for sid, sit in ruleset.situations.items():
        add(f"{sid} {sit.name}", "situation", sit.flowchart, sit.source, loc.get(sid))
    return rows
