"""The four-stage invariants of a 2019-form rule-set (国办发〔2019〕11号), proved by ``flowmatch check``.

They apply only to a rule-set whose manifest declares ``four_stage``; for every flowchart:

* **one lead per stage** — each national stage (1–4) the flowchart uses has a step accepted by the
  stage's one lead department (as the item's department or a member);
* **joint drawing review in one step** — at most one step uses the joint review item, and no step
  uses an item the joint review folded in (the item map names them ``merged_into`` it);
* **commitment items at 0 days, verified later** — a step whose item is issued on a commitment and
  that takes 0 days has a later step of the verification item depending on it;
* **the cap** — the counted working days of every situation's flow, with no flags and with every
  flag on, stay within the cap the source states (the whole process, completion acceptance included,
  when the cap's scope says so).
"""

from __future__ import annotations

from collections.abc import Iterator

from .checker import Finding
from .flows import ResolvedFlow, resolve
from .models import Flowchart, FourStage
from .ruleset import RuleSet

__all__ = ["counted_days", "four_stage_findings"]


def _items_of(flow: Flowchart) -> Iterator[tuple[str, str]]:
    for sid, step in flow.steps.items():
        yield sid, step.item
        for variant in step.variants.values():
            yield sid, variant.item


def counted_days(flow: ResolvedFlow, *, whole_process: bool) -> float:
    """Longest path of counted durations (not-counted steps weigh 0); completion steps only when
    ``whole_process``."""
    finish: dict[str, float] = {}
    for sid, step in flow.steps.items():  # topological order
        if step.completion and not whole_process:
            continue
        start = max((finish[d] for d in step.depends_on if d in finish), default=0.0)
        finish[sid] = start + (step.duration if step.counted else 0.0)
    return max(finish.values(), default=0.0)


def four_stage_findings(ruleset: RuleSet) -> list[Finding]:
    """Every violation of the four-stage invariants (none when the manifest declares no ``four_stage``)."""
    spec = ruleset.manifest.four_stage
    if spec is None:
        return []
    out: list[Finding] = []
    for fid, flow in ruleset.flowcharts.items():
        out.extend(_leads(ruleset, spec, fid, flow))
        out.extend(_joint_review(ruleset, spec, fid, flow))
        out.extend(_commitments(ruleset, spec, fid, flow))
    out.extend(_caps(ruleset, spec))
    return out


def _leads(ruleset: RuleSet, spec: FourStage, fid: str, flow: Flowchart) -> list[Finding]:
    by_stage: dict[int, set[str]] = {}
    for sid, iid in _items_of(flow):
        item = ruleset.items[iid]
        step = flow.steps[sid]
        by_stage.setdefault(item.stage, set()).update({item.department, *item.members, *step.members})
    out = []
    for number, stage in spec.stages.items():
        departments = by_stage.get(number)
        if departments and stage.lead not in departments:
            out.append(
                Finding(
                    "stage_lead",
                    f"{fid}: stage {number} ({stage.name}) has no step of its lead department {stage.lead}",
                    None,
                    (fid,),
                )
            )
    return out


def _joint_review(ruleset: RuleSet, spec: FourStage, fid: str, flow: Flowchart) -> list[Finding]:
    steps = sorted({sid for sid, iid in _items_of(flow) if iid == spec.joint_drawing_review})
    folded = set()
    if ruleset.item_map is not None:
        folded = {old for old, entry in ruleset.item_map.items.items() if spec.joint_drawing_review in entry.into}
    out = []
    if len(steps) > 1:
        out.append(
            Finding(
                "joint_review",
                f"{fid}: the joint drawing review ({spec.joint_drawing_review}) is split over steps {', '.join(steps)}",
                None,
                (fid,),
            )
        )
    for sid, iid in _items_of(flow):
        if iid in folded:
            out.append(
                Finding(
                    "joint_review",
                    f"{fid}: step {sid} uses {iid}, which the joint drawing review folded in",
                    None,
                    (fid,),
                )
            )
    return out


def _commitments(ruleset: RuleSet, spec: FourStage, fid: str, flow: Flowchart) -> list[Finding]:
    verifiers = {sid for sid, step in flow.steps.items() if step.item == spec.commitment_verification}
    verified = {dep for sid in verifiers for dep in flow.steps[sid].depends_on}
    out = []
    for sid, step in flow.steps.items():
        item = ruleset.items[step.item]
        duration = step.duration if step.duration is not None else item.promised
        if item.commitment is None or duration != 0:
            continue
        if sid not in verified:
            out.append(
                Finding(
                    "commitment",
                    f"{fid}: step {sid} ({item.id}) is issued on a commitment at 0 days but no "
                    f"{spec.commitment_verification} step verifies it later",
                    None,
                    (fid,),
                )
            )
    return out


def _caps(ruleset: RuleSet, spec: FourStage) -> list[Finding]:
    cap = spec.cap
    whole = cap.scope == "whole_process"
    everything = dict.fromkeys(ruleset.flags, True)
    out = []
    seen: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
    for sit in ruleset.situations.values():
        key = (sit.flowchart, tuple(sorted(sit.variants.items())))
        if key in seen:
            continue
        seen.add(key)
        for flags in ({}, everything):
            days = counted_days(
                resolve(ruleset, sit.flowchart, variants=sit.variants, flags=flags), whole_process=whole
            )
            if days > cap.working_days + 1e-9:
                out.append(
                    Finding(
                        "cap",
                        f"{sit.flowchart} ({sit.id}{', every flag on' if flags else ''}) takes {days:g} counted "
                        f"working days; the cap ({cap.source}) is {cap.working_days:g}",
                        None,
                        (sit.flowchart,),
                    )
                )
    return out
