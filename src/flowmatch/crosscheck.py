"""Cross-checking a loaded rule-set (private): every reference resolves, no flowchart has a cycle,
every situation's conditions read known attributes and values, the four-stage map and the item map
(``itemmap.yaml``) name what exists.  Called by :mod:`flowmatch.loader`, which collects the problems.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from .conditions import Cond
from .itemmap import ItemMap, new_side_problems
from .models import CertificateDatabase
from .ruleset import RuleSet
from .yamlsrc import Document, Key

if TYPE_CHECKING:
    from .loader import _Collector


def _four_stage_and_item_map(c: _Collector, ruleset: RuleSet, root: Path) -> ItemMap | None:
    """The manifest's ``four_stage`` references and the optional ``itemmap.yaml`` (new side)."""
    spec = ruleset.manifest.four_stage
    if spec is not None:
        doc = _doc_for(c, "ruleset.yaml")
        base: Key = ("four_stage",)
        for number, stage in spec.stages.items():
            if number not in (1, 2, 3, 4):
                c.problems.append(doc.problem((*base, "stages", number), "stages are the national stages 1, 2, 3, 4"))
            if stage.lead not in ruleset.departments:
                c.problems.append(doc.problem((*base, "stages", number, "lead"), f"unknown department {stage.lead!r}"))
        for key in ("joint_drawing_review", "commitment_verification"):
            if getattr(spec, key) not in ruleset.items:
                c.problems.append(doc.problem((*base, key), f"unknown item {getattr(spec, key)!r}"))
        for key, src in (("source", s) for s in [*spec.source, spec.cap.source]):
            if src not in ruleset.manifest.sources:
                c.problems.append(doc.problem((*base, key), f"unknown source {src!r}"))
    map_doc = c.read(root / "itemmap.yaml", required=False)
    if map_doc is None:
        return None
    item_map = c.model(map_doc, ItemMap, map_doc.data)
    if item_map is None:
        return None
    rs = ruleset
    pools = (rs.flags, rs.departments, rs.items, rs.flowcharts, rs.attributes, rs.manifest.sources)
    for path, message in new_side_problems(item_map, *(set(pool) for pool in pools)):
        c.problems.append(map_doc.problem(path, message))
    return item_map


def _doc_for(c: _Collector, name: str) -> Document:
    for key, doc in c.docs.items():
        if Path(key).name == name:
            return doc
    raise KeyError(name)


def _cross_check(
    c: _Collector,
    ruleset: RuleSet,
    flow_docs: dict[str, Document],
    *,
    conditions_checkable: bool = True,
) -> None:
    manifest, attributes, flags = ruleset.manifest, ruleset.attributes, ruleset.flags
    situations, not_applicable = ruleset.situations, ruleset.not_applicable
    departments, items, materials = ruleset.departments, ruleset.items, ruleset.materials
    flowcharts, baseline, invariants = ruleset.flowcharts, ruleset.baseline, ruleset.invariants
    sources = manifest.sources

    def known(doc: Document, path: Key, value: str, pool: Iterable[str], what: str) -> None:
        pool = list(pool)
        if value not in pool:
            shown = ", ".join(pool[:40]) + (" ..." if len(pool) > 40 else "")
            c.problems.append(doc.problem(path, f"unknown {what} {value!r}; allowed: {shown}"))

    def check_cond(doc: Document, base: Key, cond: Cond, allow_flags: bool) -> None:
        if not conditions_checkable:
            return
        for leaf in cond.leaves():
            path = (*base, *leaf.rel)
            if leaf.attribute in attributes:
                allowed = attributes[leaf.attribute].values
                for value in sorted(leaf.values, key=str):
                    if value not in allowed:
                        c.problems.append(
                            doc.problem(
                                path, f"unknown value {value!r} of {leaf.attribute}; allowed: {', '.join(allowed)}"
                            )
                        )
            elif leaf.attribute in flags and allow_flags:
                for value in leaf.values:
                    if not isinstance(value, bool):
                        c.problems.append(
                            doc.problem(path, f"flag {leaf.attribute} takes true or false, got {value!r}")
                        )
            else:
                pool = list(attributes) + (list(flags) if allow_flags else [])
                extra = "" if allow_flags or leaf.attribute not in flags else " (flags never select a situation)"
                c.problems.append(
                    doc.problem(path, f"unknown attribute {leaf.attribute!r}{extra}; allowed: {', '.join(pool)}")
                )

    try:
        attr_doc = _doc_for(c, "attributes.yaml")
        for aid, attr in attributes.items():
            if attr.asked_when is not None:
                check_cond(attr_doc, ("attributes", aid, "asked_when"), attr.asked_when, False)
        overlap = set(attributes) & set(flags)
        for name in sorted(overlap):
            c.problems.append(attr_doc.problem(("flags", name), f"{name!r} is both an attribute and a flag"))
    except KeyError:
        pass

    try:
        sit_doc = _doc_for(c, "situations.yaml")
    except KeyError:
        sit_doc = None
    if sit_doc is not None:
        for sid, sit in situations.items():
            base = ("situations", sid)
            check_cond(sit_doc, (*base, "when"), sit.when, False)
            for src in sit.source:
                known(sit_doc, (*base, "source"), src, sources, "source")
            flow = flowcharts.get(sit.flowchart)
            if flow is None:
                known(sit_doc, (*base, "flowchart"), sit.flowchart, flowcharts, "flowchart")
                continue
            for step_id, variant in sit.variants.items():
                step = flow.steps.get(step_id)
                if step is None:
                    c.problems.append(
                        sit_doc.problem(
                            (*base, "variants", step_id),
                            f"flowchart {flow.id} has no step {step_id!r}; allowed: {', '.join(flow.steps)}",
                        )
                    )
                elif variant not in step.variants:
                    c.problems.append(
                        sit_doc.problem(
                            (*base, "variants", step_id),
                            f"step {step_id} of {flow.id} has no variant {variant!r}; "
                            f"allowed: {', '.join(step.variants) or '(none defined)'}",
                        )
                    )
        for nid, rule in not_applicable.items():
            base = ("not_applicable", nid)
            check_cond(sit_doc, (*base, "when"), rule.when, False)
            if rule.consider is not None:
                known(sit_doc, (*base, "consider"), rule.consider, situations, "situation")
        clash = set(situations) & set(not_applicable)
        for name in sorted(clash):
            c.problems.append(sit_doc.problem(("not_applicable", name), f"id {name!r} is used by a situation too"))

    try:
        item_doc = _doc_for(c, "items.yaml")
        for iid, item in items.items():
            known(item_doc, (iid, "department"), item.department, departments, "department")
            for i, member in enumerate(item.members):
                known(item_doc, (iid, "members", i), member, departments, "department")
            for key in ("materials", "produces"):
                for i, mid in enumerate(getattr(item, key)):
                    known(item_doc, (iid, key, i), mid, materials, "material")
            for i, src in enumerate(item.source):
                known(item_doc, (iid, "source", i), src, sources, "source")
            for fact, tags in item.provenance.items():
                for i, src in enumerate(tags):
                    known(item_doc, (iid, "provenance", fact, i), src, sources, "source")
            if item.merged_into is not None:
                known(item_doc, (iid, "merged_into"), item.merged_into, items, "item")
    except KeyError:
        pass
    try:
        mat_doc = _doc_for(c, "materials.yaml")
        for mid, mat in materials.items():
            if mat.issuer is not None:
                known(mat_doc, (mid, "issuer"), mat.issuer, departments, "department")
            if mat.when is not None:
                check_cond(mat_doc, (mid, "when"), mat.when, True)
    except KeyError:
        pass
    try:
        inv_doc = _doc_for(c, "invariants.yaml")
        for vid, inv in invariants.items():
            for i, cat in enumerate(inv.categories):
                known(inv_doc, (vid, "categories", i), cat, manifest.categories, "category")
            for key in ("requires_any", "forbids", "if_present"):
                for i, iid in enumerate(getattr(inv, key)):
                    known(inv_doc, (vid, key, i), iid, items, "item")
            for i, dept in enumerate(inv.forbids_departments):
                known(inv_doc, (vid, "forbids_departments", i), dept, departments, "department")
            for iid, depts in inv.departments.items():
                known(inv_doc, (vid, "departments", iid), iid, items, "item")
                for i, dept in enumerate(depts):
                    known(inv_doc, (vid, "departments", iid, i), dept, departments, "department")
            for i, src in enumerate(inv.source):
                known(inv_doc, (vid, "source", i), src, sources, "source")
            for part, ids in (inv.precedes or {}).items():
                for i, iid in enumerate(ids):
                    known(inv_doc, (vid, "precedes", part, i), iid, items, "item")
    except KeyError:
        pass

    all_flows = dict(flowcharts)
    if baseline is not None:
        all_flows["baseline"] = baseline
    for fid, flow in all_flows.items():
        doc = flow_docs[fid]
        if fid != "baseline":
            if flow.category is None:
                c.problems.append(
                    doc.problem(("category",), f"required key is missing; allowed: {', '.join(manifest.categories)}")
                )
            else:
                known(doc, ("category",), flow.category, manifest.categories, "category")
        for i, src in enumerate(flow.source):
            known(doc, ("source", i), src, sources, "source")
        if not flow.steps:
            continue
        for sid, step in flow.steps.items():
            base = ("steps", sid)
            known(doc, (*base, "item"), step.item, items, "item")
            for i, dep in enumerate(step.depends_on):
                if dep == sid:
                    c.problems.append(doc.problem((*base, "depends_on", i), "a step cannot depend on itself"))
                else:
                    known(doc, (*base, "depends_on", i), dep, flow.steps, "step")
            if step.department is not None:
                known(doc, (*base, "department"), step.department, departments, "department")
            for step_fact, tags in step.provenance.items():
                for i, src in enumerate(tags):
                    known(doc, (*base, "provenance", step_fact, i), src, sources, "source")
            for vid, var in step.variants.items():
                known(doc, (*base, "variants", vid, "item"), var.item, items, "item")
                for i, dep in enumerate(var.depends_on):
                    if dep == sid:
                        c.problems.append(
                            doc.problem((*base, "variants", vid, "depends_on", i), "a step cannot depend on itself")
                        )
                    else:
                        known(doc, (*base, "variants", vid, "depends_on", i), dep, flow.steps, "step")
                for i, mid in enumerate(var.materials):
                    known(doc, (*base, "variants", vid, "materials", i), mid, materials, "material")
            for i, member in enumerate(step.members):
                known(doc, (*base, "members", i), member, departments, "department")
            for key in ("materials", "omits"):
                for i, mid in enumerate(getattr(step, key)):
                    known(doc, (*base, key, i), mid, materials, "material")
            if step.when is not None:
                check_cond(doc, (*base, "when"), step.when, True)
        cycle = _find_cycle(
            {
                sid: [
                    d
                    for d in (*s.depends_on, *(d for v in s.variants.values() for d in v.depends_on))
                    if d in flow.steps and d != sid
                ]
                for sid, s in flow.steps.items()
            }
        )
        if cycle:
            text = " → ".join([*cycle, cycle[0]])
            c.problems.append(doc.problem(("steps", cycle[0], "depends_on"), f"steps form a cycle: {text}"))


def _find_cycle(graph: Mapping[str, list[str]]) -> list[str]:
    """One cycle in a dependency graph, as a list of step ids, or [] if there is none.

    Iterative depth-first search: a chain of thousands of steps must not overflow the stack."""
    state: dict[str, int] = {}
    for root in graph:
        if root in state:
            continue
        state[root] = 1
        path = [root]
        stack = [iter(graph.get(root, ()))]
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                stack.pop()
                state[path.pop()] = 2
                continue
            if state.get(nxt) == 1:
                return path[path.index(nxt) :]
            if nxt not in state:
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(graph.get(nxt, ())))
    return []


def _certificates(c: _Collector, ruleset: RuleSet, root: Path) -> CertificateDatabase | None:
    """The optional ``certificates.yaml``: every id known, every certificate with an issuer."""
    doc = c.read(root / "certificates.yaml", required=False)
    if doc is None:
        return None
    raw = dict(doc.data)
    for section in ("connected", "certificates"):
        if isinstance(raw.get(section), dict):
            raw[section] = {k: ({"id": k, **v} if isinstance(v, dict) else v) for k, v in raw[section].items()}
    db = c.model(doc, CertificateDatabase, raw)
    if db is None:
        return None
    sources = ruleset.manifest.sources

    def known(path: Key, value: str, pool: Iterable[str], what: str) -> bool:
        if value in pool:
            return True
        c.problems.append(doc.problem(path, f"unknown {what} {value!r}"))
        return False

    for i, src in enumerate(db.source):
        known(("source", i), src, sources, "source")
    for did, reg in db.connected.items():
        known(("connected", did), did, ruleset.departments, "department")
        for i, src in enumerate(reg.source):
            known(("connected", did, "source", i), src, sources, "source")
    for mid, kind in db.certificates.items():
        if not known(("certificates", mid), mid, ruleset.materials, "material"):
            continue
        issuer = kind.issuer or ruleset.materials[mid].issuer
        if issuer is None:
            c.problems.append(doc.problem(("certificates", mid), "the material has no issuer; give 'issuer'"))
        elif kind.issuer is not None:
            known(("certificates", mid, "issuer"), kind.issuer, ruleset.departments, "department")
        if kind.validity is not None:
            v = kind.validity
            if v.years is None and v.months is None and v.days is None:
                c.problems.append(doc.problem(("certificates", mid, "validity"), "give years, months or days"))
            for i, src in enumerate(v.source):
                known(("certificates", mid, "validity", "source", i), src, sources, "source")
    return db
