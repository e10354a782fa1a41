"""``flowmatch stats``: the figures seed 003 publishes, computed from the rule data alone.

Definitions (see ``docs/adr/0002-what-stats-count.md``): each flowchart in its default
configuration (no flags, the steps' default variants); *approval steps* are counted steps before
construction; *requisites* are the materials those steps ask, summed with no sharing; *working
days* are the government-clock critical path.  The published values and their tolerances come
from the manifest, never from code.

With a certificate database (``certificates.yaml``, issue 16) it also counts the requisites an
applicant must still supply with the database connected (:data:`DATABASE_RULE`), beside the
published 58.6%.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .calendar import plain_days
from .flows import ResolvedFlow, resolve
from .ruleset import RuleSet
from .scheduler import schedule


@dataclass(frozen=True)
class FlowFigures:
    flowchart: str
    name: str
    category: str
    steps: int
    requisites: int
    working_days: float
    departments: int


def flow_figures(ruleset: RuleSet, flow: ResolvedFlow) -> FlowFigures:
    sched = schedule(flow, ruleset=ruleset)
    return FlowFigures(
        flow.id,
        flow.flowchart.name,
        flow.flowchart.category or "",
        len(flow.approval_steps),
        flow.requisites,
        sched.working_days,
        len({s.department for s in flow.approval_steps}),
    )


DATABASE_RULE = (
    "每个流程图按默认配置计其审批环节的要件（逐环节、不合并，同 avg_requisites）；"
    "接入证照数据库后，以下要件不再由企业提交："
    "（一）数据库能保存、由接入部门核发、且由本流程图前序环节核发的证照（办结时自动入库）；"
    "（二）身份类材料只提交一次：申请人自备、只交复印件（原件0、复印件≥1）且在每个流程图中都被两个以上审批环节要求的材料，"
    "第一次之后各环节从数据库调取。其余要件照计。"
    " / Per flowchart (default configuration), the approval steps' requisites counted per step; with the database "
    "connected the applicant no longer supplies (a) a certificate the database holds, from a connected department, "
    "issued by an earlier step of the same flowchart, nor (b) the second and later asks of an identity document: "
    "applicant-supplied, a copy only (original 0, copies >= 1), asked by two or more approval steps of every flowchart."
)
"""The counting rule of the certificate-database figures (printed with them)."""


def identity_documents(ruleset: RuleSet, flows: list[ResolvedFlow]) -> list[str]:
    """Materials the applicant supplies as a copy of a document it holds, asked twice or more in every flow."""
    found: set[str] | None = None
    for flow in flows:
        asks: dict[str, int] = {}
        for step in flow.approval_steps:
            for mid in step.materials:
                asks[mid] = asks.get(mid, 0) + 1
        repeated = {m for m, n in asks.items() if n >= 2}
        found = repeated if found is None else found & repeated
    return sorted(
        m
        for m in found or ()
        if ruleset.materials[m].source == "applicant"
        and ruleset.materials[m].original == 0
        and ruleset.materials[m].copies
    )


def database_figures(
    ruleset: RuleSet, flows: list[ResolvedFlow], baseline_requisites: int | None
) -> dict[str, Any] | None:
    """Requisites an applicant still supplies with the certificate database connected (``None`` without one)."""
    if ruleset.certificates is None or not flows:
        return None
    from .certdb import held_kinds
    from .materials import _ancestors

    held = held_kinds(ruleset)
    identity = set(identity_documents(ruleset, flows))
    per_flow: list[dict[str, Any]] = []
    for flow in flows:
        ancestors = _ancestors(flow)
        producers: dict[str, list[str]] = {}
        for sid, step in flow.steps.items():
            for mid in step.produces:
                producers.setdefault(mid, []).append(sid)
        total = in_database = once = 0
        seen: set[str] = set()
        for step in flow.approval_steps:
            for mid in step.materials:
                total += 1
                if mid in held and any(p in ancestors[step.id] for p in producers.get(mid, ())):
                    in_database += 1
                elif mid in identity and mid in seen:
                    once += 1
                else:
                    seen.add(mid)
        per_flow.append(
            {
                "flowchart": flow.id,
                "requisites": total,
                "in_database": in_database,
                "submitted_once": once,
                "still_supplied": total - in_database - once,
            }
        )
    n = len(per_flow)
    avg = sum(f["still_supplied"] for f in per_flow) / n
    avg_total = sum(f["requisites"] for f in per_flow) / n
    db = ruleset.certificates
    return {
        "rule": DATABASE_RULE,
        "connected": list(db.connected),
        "certificate_kinds": len(held),
        "identity_documents": sorted(identity),
        "avg_requisites": round(avg_total, 2),
        "avg_in_database": round(sum(f["in_database"] for f in per_flow) / n, 2),
        "avg_submitted_once": round(sum(f["submitted_once"] for f in per_flow) / n, 2),
        "avg_still_supplied": round(avg, 2),
        "reduction_vs_reformed": round(1 - avg / avg_total, 4) if avg_total else None,
        "reduction_vs_baseline": round(1 - avg / baseline_requisites, 4) if baseline_requisites else None,
        "per_flowchart": per_flow,
    }


def baseline_figures(ruleset: RuleSet) -> dict[str, Any] | None:
    if ruleset.baseline is None:
        return None
    flow = resolve(ruleset, "baseline")
    fig = flow_figures(ruleset, flow)
    items = [s.item for s in flow.steps.values()]
    intermediaries = [m for item in items for m in item.intermediaries]
    return {
        "name": ruleset.baseline.name,
        "departments": len({s.department for s in flow.steps.values()}),
        "steps": fig.steps,
        "requisites": fig.requisites,
        "working_days": plain_days(fig.working_days),
        "fees": sum(1 for item in items for f in item.fees if f.administrative),
        "intermediary_kinds": len({m.kind for m in intermediaries}),
        "intermediary_seals": sum(m.seals for m in intermediaries),
        "intermediary_fees": sum(1 for m in intermediaries if m.fee),
    }


def stats(*, ruleset: RuleSet | None = None) -> dict[str, Any]:
    """All figures of a rule-set (default: the packaged one) as a dict in the SPEC §8 shape, plus
    per-flowchart detail."""
    if ruleset is None:
        from .ruleset import default_ruleset

        ruleset = default_ruleset()
    resolved = [resolve(ruleset, fid) for fid in ruleset.flowcharts]
    flows = [flow_figures(ruleset, flow) for flow in resolved]
    n = len(flows) or 1
    by_category: dict[str, dict[str, int]] = {}
    for cid in ruleset.manifest.categories:
        by_category[cid] = {
            "situations": sum(
                1 for s in ruleset.situations.values() if ruleset.flowcharts[s.flowchart].category == cid
            ),
            "flowcharts": sum(1 for f in ruleset.flowcharts.values() if f.category == cid),
        }
    avg_steps = sum(f.steps for f in flows) / n
    avg_req = sum(f.requisites for f in flows) / n
    avg_days = sum(f.working_days for f in flows) / n
    fastest = min(flows, key=lambda f: (f.working_days, f.flowchart)) if flows else None
    slowest = max(flows, key=lambda f: (f.working_days, f.flowchart)) if flows else None
    base = baseline_figures(ruleset)
    reduction = None
    if base:
        reduction = {
            "steps": round(1 - avg_steps / base["steps"], 4) if base["steps"] else None,
            "requisites": round(1 - avg_req / base["requisites"], 4) if base["requisites"] else None,
            "working_days": round(1 - avg_days / base["working_days"], 4) if base["working_days"] else None,
        }
    database = database_figures(ruleset, resolved, base["requisites"] if base else None)
    return {
        "ruleset": ruleset.manifest.name,
        "situations": len(ruleset.situations),
        "flowcharts": len(ruleset.flowcharts),
        "by_category": by_category,
        "avg_steps": round(avg_steps, 2),
        "avg_requisites": round(avg_req, 2),
        "avg_working_days": round(avg_days, 2),
        "fastest": {
            "flowchart": fastest.flowchart,
            "name": fastest.name,
            "working_days": plain_days(fastest.working_days),
        }
        if fastest
        else None,
        "slowest": {
            "flowchart": slowest.flowchart,
            "name": slowest.name,
            "working_days": plain_days(slowest.working_days),
        }
        if slowest
        else None,
        "baseline": base,
        "reduction": reduction,
        "database": database,
        "per_flowchart": [
            {
                "flowchart": f.flowchart,
                "name": f.name,
                "category": f.category,
                "steps": f.steps,
                "requisites": f.requisites,
                "working_days": plain_days(f.working_days),
                "departments": f.departments,
            }
            for f in flows
        ],
    }


def compare(ruleset: RuleSet, figures: dict[str, Any]) -> list[dict[str, Any]]:
    """Each computed figure beside its published value (manifest ``published``) and tolerance."""
    base = figures.get("baseline") or {}
    red = figures.get("reduction") or {}
    fastest = figures.get("fastest") or {}
    computed: dict[str, Any] = {
        "situations": figures["situations"],
        "flowcharts": figures["flowcharts"],
        "avg_steps": figures["avg_steps"],
        "avg_requisites": figures["avg_requisites"],
        "avg_working_days": figures["avg_working_days"],
        "fastest_flowchart": fastest.get("flowchart"),
        "fastest_working_days": fastest.get("working_days"),
        **{f"baseline_{k}": v for k, v in base.items() if k != "name"},
        **{f"reduction_{k}": v for k, v in red.items()},
    }
    database = figures.get("database")
    if database:
        computed["avg_requisites_database"] = database["avg_still_supplied"]
        computed["reduction_requisites_database"] = database["reduction_vs_baseline"]
    rows = []
    for key, pub in ruleset.manifest.published.items():
        if key not in computed:
            rows.append(
                {
                    "figure": key,
                    "published": pub.value,
                    "computed": None,
                    "ok": None,
                    "source": pub.source,
                    "note": pub.note,
                }
            )
            continue
        got = computed[key]
        if pub.tolerance_kind == "exact" or isinstance(pub.value, str):
            ok = got == pub.value or (
                isinstance(got, (int, float)) and isinstance(pub.value, (int, float)) and abs(got - pub.value) < 1e-9
            )
            tol = "exact"
        elif pub.tolerance_kind == "relative":
            ok = got is not None and abs(got - float(pub.value)) <= pub.tolerance * float(pub.value) + 1e-9
            tol = f"±{pub.tolerance:.0%}"
        else:
            ok = got is not None and abs(got - float(pub.value)) <= pub.tolerance + 1e-9
            tol = f"±{pub.tolerance:g}"
        rows.append(
            {
                "figure": key,
                "published": pub.value,
                "computed": got,
                "tolerance": tol,
                "ok": ok,
                "source": pub.source,
                "note": pub.note,
                "gap": pub.gap if not ok else None,
            }
        )
    return rows


def unexplained(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Figures out of tolerance that the manifest does not explain with a ``gap``: these fail."""
    return [r for r in rows if r["ok"] is False and not r.get("gap")]


def calibration(ruleset: RuleSet) -> list[dict[str, Any]]:
    """Every promised limit tagged ``calibrated``, beside its statutory limit and the flowcharts using it."""
    used: dict[str, list[str]] = {}
    for fid, flow in ruleset.flowcharts.items():
        for step in flow.steps.values():
            for iid in (step.item, *(v.item for v in step.variants.values())):
                if fid not in used.setdefault(iid, []):
                    used[iid].append(fid)
    rows = []
    for iid, item in ruleset.items.items():
        if "calibrated" not in item.provenance.get("promised", []):
            continue
        st = item.statutory
        rows.append(
            {
                "item": iid,
                "name": item.name,
                "promised": plain_days(item.promised),
                "statutory": plain_days(st.value) if st.value is not None else None,
                "statutory_unit": st.unit,
                "statutory_sources": list(item.provenance.get("statutory", [])),
                "minimum": st.minimum,
                "flowcharts": used.get(iid, []),
            }
        )
    return rows
