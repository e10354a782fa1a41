"""The one-time notice (一次性告知书): one context, rendered by Jinja templates as HTML, Markdown or PDF.

The notice context (private; the public way in is :mod:`flowmatch.notice`): :func:`build_context`
gathers everything a notice says — header, overview, pictures, consolidated materials, per-step
blocks, completion steps, fees, intermediaries, closing statement — from the match, the schedule
and the rule-set, for the templates of :mod:`flowmatch.templates` (the packaged ``guides/`` or a
user's directory, sandboxed); the PDF printing is here too.  :func:`render_guide` is the public
shortcut for a match and a schedule already made; it goes through :mod:`flowmatch.notice` too.

HTML is autoescaped always; Markdown output escapes ``< > |`` in every value.  A template error
becomes :class:`~flowmatch.errors.RenderError` naming the template and line.  PDF is the notice
typeset by Typst from its own templates (:mod:`flowmatch.typeset`, the ``[pdf]`` extra, the default), or
the HTML notice printed by the system's headless Chromium (:mod:`flowmatch.pdf`) or by WeasyPrint (the
``[weasyprint]`` extra) — the first installed, or ``FLOWMATCH_PDF_ENGINE``; without an engine, or
without a CJK font, the error says what to install — never a PDF of empty boxes.

Regenerate the golden notices in ``tests/golden/`` with ``python -m flowmatch.render --regenerate-golden``.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from markupsafe import Markup

from .calendar import WorkCalendar, number_text
from .errors import InputError, RenderError
from .flows import ResolvedFlow, ResolvedStep, for_situation, resolve
from .labels import (
    FEE_KIND_LABELS,
    FEE_KIND_LABELS_EN,
    LIMIT_UNIT_LABELS,
    LIMIT_UNIT_LABELS_EN,
    MEDIUM_LABELS_EN,
    SOURCE_LABELS_EN,
    STAGE_LABELS,
    STAGE_LABELS_EN,
)
from .materials import MaterialList, OnFile, consolidate
from .models import Fee, Limit
from .ruleset import RuleSet, default_ruleset
from .scheduler import Schedule, ScheduledStep

# the Jinja side of the notice lives in flowmatch.templates; these names stay here for older callers
from .templates import _ENVIRONMENTS as _ENVIRONMENTS
from .templates import TEMPLATES as TEMPLATES
from .templates import default_guides_path as default_guides_path
from .templates import render_template as render_template
from .terminal import clean

if TYPE_CHECKING:
    from .matcher import MatchResult

__all__ = ["FORMATS", "build_context", "default_guides_path", "find_cjk_font", "render_guide"]

Format = Literal["html", "md", "pdf"]
FORMATS: tuple[str, ...] = ("html", "md", "pdf")

STAGES = STAGE_LABELS
CLOSING = (
    "本告知书依据《中华人民共和国行政许可法》第三十条、第三十二条，一次性告知本项目从立项到取得施工许可"
    "（及竣工验收）须办理的全部审批事项、申请材料、办理时限和收费。申请人按本告知书备齐材料即可申请办理；"
    "除本告知书所列材料外，各审批部门不得要求申请人另行提交其他材料。申请材料不齐全或者不符合法定形式的，"
    "受理部门应当当场或者在五日内一次性告知需要补正的全部内容。"
)
NOT_COUNTED_BASIS = (
    "依据《中华人民共和国行政许可法》第四十五条，招标、拍卖、评估、公示、专家评审等所需时间不计入审批时限"
)
CLOSING_EN = (
    "Under Articles 30 and 32 of the Administrative Licensing Law of the People's Republic of China, this notice "
    "states at one time every approval item, application material, time limit and fee of this project from "
    "project approval to the construction permit (and completion acceptance). The applicant may apply once the "
    "materials listed here are ready; no approval department may ask for any material not listed in this notice. "
    "Where the materials are incomplete or not in the statutory form, the accepting department shall state "
    "everything to be corrected at one time, on the spot or within five days."
)
NOT_COUNTED_BASIS_EN = (
    "Under Article 45 of the Administrative Licensing Law of the People's Republic of China, the time needed for "
    "tendering, auction, assessment, public notice, expert review and the like is not counted in the approval "
    "time limit"
)
COMMITMENT_CONDITION_EN = "when the notification-and-commitment procedure is chosen"

CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Serif CJK SC",
    "Source Han Sans SC",
    "Source Han Serif SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "AR PL UMing CN",
    "AR PL UKai CN",
    "Droid Sans Fallback",
)
CJK_PATHS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/System/Library/Fonts/PingFang.ttc",
    "C:/Windows/Fonts/msyh.ttc",
)


def days_text(x: float, lang: str = "zh") -> str:
    units = LIMIT_UNIT_LABELS_EN if lang == "en" else LIMIT_UNIT_LABELS
    return units["on_the_spot"] if x == 0 else f"{number_text(x)}{units['working_day']}"


def fee_kind_label(fee: Fee, lang: str = "zh") -> str:
    kind = fee.kind or ("administrative" if fee.administrative else "service")
    return (FEE_KIND_LABELS_EN if lang == "en" else FEE_KIND_LABELS)[kind]


def limit_text(limit: Limit, lang: str = "zh") -> str:
    units = LIMIT_UNIT_LABELS_EN if lang == "en" else LIMIT_UNIT_LABELS
    unit = limit.unit
    if unit == "on_the_spot":
        text = units[unit]
    elif unit == "none" or limit.value is None:
        text = units["none"]
    else:
        text = f"{number_text(limit.value)}{units[unit]}"
    if not limit.note:
        return text
    return f"{text} ({limit.note_en or limit.note})" if lang == "en" else f"{text}（{limit.note}）"


# --- the context -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Official:
    """An official title (a law, regulation, decree, document number) in the English notice: its
    English rendering, printed with the official Chinese title beside it (the template filter
    ``official``: ``english (<span lang="zh">官方名称</span>)`` in HTML, ``english (官方名称)`` in Markdown)."""

    en: str | None
    zh: str

    def __str__(self) -> str:
        return f"{self.en} ({self.zh})" if self.en else self.zh


def _official(en: str | None, zh: str) -> Official:
    return Official(en, zh)


def _legal_basis(zh: Sequence[str], en: Sequence[str] | None) -> tuple[Official, ...]:
    """An item's legal bases for the English notice (the loader has checked they match one for one)."""
    english: Sequence[str | None] = en if en is not None else [None] * len(zh)
    return tuple(Official(e, z) for e, z in zip(english, zh, strict=True))


@dataclass(frozen=True)
class StepView:
    """One step as the notice shows it."""

    number: int
    id: str
    name: str
    item: str
    item_name: str
    department: str
    department_short: str
    members: tuple[str, ...]
    stage: int
    stage_label: str
    batch: int | None
    prerequisites: tuple[str, ...]
    statutory: str
    promised: str
    duration: float
    counted: bool
    critical: bool
    slack: float
    start: dt.date | None
    end: dt.date | None
    es: float | None
    ef: float | None
    fees: tuple[dict[str, Any], ...]
    result: str | None
    legal_basis: tuple[str | Official, ...]
    commitment_available: bool
    committed: bool
    commitment_duration: float | None
    commitment_letter: str | None
    materials: tuple[Any, ...]
    materials_text: str
    issued_text: str
    issued: tuple[dict[str, Any], ...]
    spared: tuple[str, ...]
    produces: tuple[str, ...]
    intermediaries: tuple[dict[str, Any], ...]
    completion: bool
    note: str | None


def _baseline(rs: RuleSet) -> dict[str, Any] | None:
    cache = rs.derived
    if cache.baseline_figures is None:
        from .stats import baseline_figures

        cache.baseline_figures = (baseline_figures(rs),)
    return cache.baseline_figures[0]


def _dept(rs: RuleSet, did: str, lang: str = "zh") -> tuple[str, str]:
    d = rs.departments.get(did)
    if d is None:
        return (did, did)
    if lang == "en":
        return (d.name_en, d.short_en or _short_en(d.name_en))
    return (d.name, d.short)


def _short_en(name: str) -> str:
    """A department's English short name where the rule-set gives none: its name without the city
    (Harbin Planning Bureau → Planning Bureau); any other name whole."""
    return name.removeprefix("Harbin ") or name


def _en(obj: Any, lang: str) -> str:
    """The name of a rule-set object in ``lang`` (the Chinese one when it has no English name)."""
    if lang == "en":
        found = getattr(obj, "name_en", None)
        if found:
            return str(found)
    return str(obj.name)


_DATED_FIELDS = frozenset(
    {
        "number",
        "batch",
        "duration",
        "critical",
        "slack",
        "start",
        "end",
        "es",
        "ef",
        "committed",
        "commitment_letter",
        "materials",
        "materials_text",
        "spared",
    }
)
"""The :class:`StepView` fields that depend on the schedule or on what the applicant has on file;
every other field depends only on the resolved flow, the rule-set and the language."""


def _step_fixed(
    rs: RuleSet, step: ResolvedStep, issued_materials: Sequence[Any], names: Mapping[str, str], lang: str
) -> dict[str, Any]:
    """The :class:`StepView` fields of ``step`` that no schedule or applicant changes
    (``issued_materials``: the flow's issued materials, named in ``lang``)."""
    item = step.item
    en = lang == "en"
    sep = ", " if en else "、"
    issued = tuple(
        {"name": m.name, "by": names.get(m.produced_by, m.produced_by)} for m in issued_materials if step.id in m.steps
    )
    name, short = _dept(rs, step.department, lang)
    stages = STAGE_LABELS_EN if en else STAGES
    return {
        "id": step.id,
        "name": names.get(step.id, step.name),
        "item": item.id,
        "item_name": _en(item, lang),
        "department": name,
        "department_short": short,
        "members": tuple(_dept(rs, m, lang)[0] for m in step.members),
        "stage": item.stage,
        "stage_label": stages.get(item.stage, str(item.stage)),
        "prerequisites": tuple(names.get(d, d) for d in step.depends_on),
        "statutory": limit_text(item.statutory, lang),
        "promised": days_text(step.duration, lang),
        "counted": step.counted,
        "fees": tuple(
            {
                "name": f.name,
                "basis": f.basis,
                "standard": f.standard,
                "administrative": f.administrative,
                "kind_label": fee_kind_label(f, lang),
                "status": f.status,
            }
            if not en
            else {
                "name": f.name_en or f.name,
                "basis": _official(f.basis_en, f.basis),
                "standard": f.standard_en or f.standard,
                "administrative": f.administrative,
                "kind_label": fee_kind_label(f, lang),
                "status": f.status_en or f.status,
            }
            for f in item.fees
        ),
        "result": (item.result_en or (None if item.produces else item.result)) if en else item.result,
        "legal_basis": _legal_basis(item.legal_basis, item.legal_basis_en) if en else tuple(item.legal_basis),
        "commitment_available": step.commitment is not None,
        "commitment_duration": step.commitment.duration if step.commitment else None,
        "issued_text": sep.join(f"{m['name']} ({m['by']})" if en else f"{m['name']}（{m['by']}）" for m in issued),
        "issued": issued,
        "produces": tuple(_en(rs.materials[m], lang) for m in step.produces if m in rs.materials),
        "intermediaries": tuple(
            {
                "kind": (i.kind_en or i.kind) if en else i.kind,
                "purpose": (i.purpose_en or i.purpose) if en else i.purpose,
                "seals": i.seals,
                "fee": i.fee,
            }
            for i in item.intermediaries
        ),
        "completion": step.completion,
        "note": (item.note_en or item.note) if en else item.note,
    }


def _step_view(
    step: ResolvedStep,
    fixed: Mapping[str, Any],
    letter: str | None,
    number: int,
    sched: ScheduledStep | None,
    mats: MaterialList,
    by_number: Mapping[str, Any],
    lang: str,
) -> StepView:
    """One step as the notice shows it: its fixed fields (:func:`_step_fixed`) with the dated ones.

    Built without the frozen dataclass's per-field ``object.__setattr__`` (a notice builds one per
    step; :class:`StepView` has no ``__post_init__``)."""
    en = lang == "en"
    asked = tuple(by_number[m] for m in mats.by_step.get(step.id, ()))
    committed = bool(sched and sched.committed)
    view: StepView = object.__new__(StepView)
    state = view.__dict__
    state.update(fixed)
    state.update(
        number=number,
        batch=(sched.stage + 1) if sched else None,
        duration=sched.duration if sched else step.duration,
        critical=bool(sched and sched.critical and step.counted),
        slack=sched.slack if sched else 0.0,
        start=sched.start if sched else None,
        end=sched.end if sched else None,
        es=sched.elapsed_es if sched else None,
        ef=sched.elapsed_ef if sched else None,
        committed=committed,
        commitment_letter=letter if committed else None,
        materials=asked,
        materials_text=(", " if en else "、").join(
            f"{m.name} [{m.number}]" if en else f"{m.name}〔{m.number}〕" for m in asked
        ),
        spared=tuple(m.name for m in mats.on_file if step.id in m.steps) if mats.on_file else (),
    )
    return view


@dataclass(frozen=True)
class _FlowParts:
    """What a notice says that depends only on the resolved flow, the rule-set and the language —
    the same for every applicant, start date and on-file list (:func:`_flow_parts`)."""

    names: Mapping[str, str]
    pre: tuple[ResolvedStep, ...]
    completion: tuple[ResolvedStep, ...]
    topo: Mapping[str, int]
    fixed: Mapping[str, Mapping[str, Any]]
    """Per step: the :class:`StepView` fields of :func:`_step_fixed`."""
    letters: Mapping[str, str | None]
    """Per step: its commitment letter in the notice's language (printed when the step is committed)."""
    fee_rows: Mapping[str, tuple[Mapping[str, Any], ...]]
    """Per step: its rows of the notice's fee table."""
    departments: int
    approval: int
    joint: tuple[Mapping[str, Any], ...]
    short: Mapping[str, str]
    joint_ids: Mapping[str, bool]
    department_names: Mapping[str, str]
    flowchart: Mapping[str, Any]
    category: str | None
    ruleset: Mapping[str, Any]
    centre: Mapping[str, Any]
    disclaimer: str | None


def _flow_parts(rs: RuleSet, flow: ResolvedFlow, lang: str) -> _FlowParts:
    """The flow's :class:`_FlowParts` in ``lang``, computed once per resolved flow (kept on the rule-set)."""
    from .derived import per_flow

    return per_flow(rs.derived.notice_parts, flow, lang, lambda: _make_flow_parts(rs, flow, lang))


def _make_flow_parts(rs: RuleSet, flow: ResolvedFlow, lang: str) -> _FlowParts:
    from .materials import _flow_materials

    en = lang == "en"
    names = {sid: (_step_en(s) if en else s.name) for sid, s in flow.steps.items()}
    issued: Sequence[Any] = _flow_materials(flow, rs).issued
    if en:
        issued = [_english_issued(m, rs) for m in issued]
    pre = tuple(s for s in flow.steps.values() if not s.completion)
    fixed = {sid: _step_fixed(rs, s, issued, names, lang) for sid, s in flow.steps.items()}
    letters = {
        sid: (
            ((s.commitment.letter_en or s.commitment.letter) if en else s.commitment.letter) if s.commitment else None
        )
        for sid, s in flow.steps.items()
    }
    chart = flow.flowchart
    category = rs.manifest.categories.get(chart.category or "")
    centre = rs.manifest.service_centre
    return _FlowParts(
        names=names,
        pre=pre,
        completion=tuple(s for s in flow.steps.values() if s.completion),
        topo={sid: i for i, sid in enumerate(flow.steps)},
        fixed=fixed,
        letters=letters,
        fee_rows={
            sid: tuple({"step": v["name"], "department": v["department_short"], **f} for f in v["fees"])
            for sid, v in fixed.items()
        },
        departments=len({s.department for s in pre} | {m for s in pre for m in s.members}),
        approval=sum(1 for s in pre if s.counted),
        joint=tuple(
            {
                "name": names[s.id],
                "department": _dept(rs, s.department, lang)[0],
                "members": [_dept(rs, m, lang)[1] for m in s.members],
                "count": len(s.members),
                "completion": s.completion,
            }
            for s in flow.steps.values()
            if s.members
        ),
        short={did: _dept(rs, did, lang)[1] for did in rs.departments},
        joint_ids={s.id: bool(s.members) for s in pre},
        department_names={did: _dept(rs, did, lang)[0] for did in rs.departments},
        flowchart={
            "id": chart.id,
            "name": _en(chart, lang),
            "name_en": chart.name_en,
            "description": (chart.description_en or chart.description) if en else chart.description,
        },
        category=(category.gloss if en else category.label.removesuffix("类")) if category else None,
        ruleset={
            "name": _en(rs.manifest, lang),
            "version": rs.manifest.version,
            "region": rs.manifest.region,
            "effective_date": rs.manifest.effective_date,
        },
        centre={
            "name": centre.name,
            "address": centre.address,
            "window": centre.window,
            "hours": centre.hours,
            "phone": centre.phone,
            "hotline": centre.hotline,
            "note": centre.note,
        }
        if not en
        else {
            "name": centre.name_en or centre.name,
            "address": centre.address_en or centre.address,
            "window": centre.window_en or centre.window,
            "hours": centre.hours_en or centre.hours,
            "phone": centre.phone,
            "hotline": centre.hotline,
            "note": centre.note_en or centre.note,
        },
        disclaimer=(rs.manifest.disclaimer_en or rs.manifest.disclaimer) if en else rs.manifest.disclaimer,
    )


def _used_by(step_ids: Sequence[str], names: Mapping[str, str], numbers: Mapping[str, int], lang: str = "zh") -> str:
    """Where a material is used: up to three steps by name; more as the first by name plus numbers."""
    if len(step_ids) <= 3:
        return ("; " if lang == "en" else "、").join(names.get(s, s) for s in step_ids)
    first, rest = step_ids[0], sorted(numbers.get(s, 0) for s in step_ids[1:])
    if lang == "en":
        return f"{names.get(first, first)} (step {numbers.get(first, 0)}); also steps {', '.join(map(str, rest))}"
    return f"{names.get(first, first)}（环节{numbers.get(first, 0)}）；另用于环节{'、'.join(map(str, rest))}"


def _flow_for(match: MatchResult, schedule: Schedule, rs: RuleSet) -> ResolvedFlow:
    if schedule.flow is not None:
        return schedule.flow
    if match.situation and match.situation in rs.situations:
        return for_situation(rs, match.situation, flags=match.flags)
    return resolve(rs, schedule.flowchart)


def _check_inputs(match: MatchResult, schedule: Schedule) -> None:
    if match.status != "matched":
        if match.status == "incomplete":
            raise InputError(
                "cannot write a notice for an incomplete profile; still needed: " + ", ".join(match.missing)
            )
        if match.status == "not_applicable":
            raise InputError(f"cannot write a notice: the project is not applicable ({match.rule}): {match.reason}")
        raise InputError("cannot write a notice for an invalid profile: " + "; ".join(i.text() for i in match.invalid))
    if match.flowchart != schedule.flowchart:
        raise InputError(
            f"the schedule is for flowchart {schedule.flowchart}, but the match selected {match.flowchart}"
        )


def build_context(
    match: MatchResult,
    schedule: Schedule,
    *,
    ruleset: RuleSet | None = None,
    project_name: str | None = None,
    applicant: str | None = None,
    on_file: Iterable[str | OnFile] = (),
    generated: dt.date | None = None,
    calendar: WorkCalendar | None = None,
    pictures: Literal["svg", "mermaid", "none"] = "svg",
    compare: Sequence[Mapping[str, Any]] = (),
    lang: str = "zh",
) -> dict[str, Any]:
    """Everything the notice says, as one dict for the templates (the same for every format).

    ``lang="en"``: the rule-set's words in English (its ``name_en`` fields, the English label
    tables), for the English templates under ``guides/en/``."""
    rs = ruleset or default_ruleset()
    en = lang == "en"
    _check_inputs(match, schedule)
    flow = _flow_for(match, schedule, rs)
    parts = _flow_parts(rs, flow, lang)  # what no applicant, date or on-file list changes
    cal = calendar or schedule.calendar
    if cal is None and schedule.start is not None:
        cal = WorkCalendar()
    mats = consolidate(flow, rs, schedule=schedule, calendar=cal, on_file=on_file)
    names = parts.names
    if en:
        mats = _english_materials(mats, rs, names)
    by_number = {m.id: m for m in mats.to_prepare}
    sched_by_id = {s.id: s for s in schedule.steps}

    topo = parts.topo
    ordered = sorted(
        parts.pre, key=lambda s: (sched_by_id[s.id].elapsed_es if s.id in sched_by_id else 0.0, topo[s.id])
    )
    fixed, letters = parts.fixed, parts.letters
    steps = [
        _step_view(s, fixed[s.id], letters[s.id], i, sched_by_id.get(s.id), mats, by_number, lang)
        for i, s in enumerate(ordered, start=1)
    ]
    completion_views = [
        _step_view(s, fixed[s.id], letters[s.id], len(steps) + i, None, mats, by_number, lang)
        for i, s in enumerate(parts.completion, start=1)
    ]

    numbers = {v.id: v.number for v in (*steps, *completion_views)}
    base = _baseline(rs)
    saving = None
    if base and schedule.mode != "baseline" and base.get("working_days"):
        days = float(base["working_days"]) - schedule.working_days
        saving = {
            "name": rs.baseline.name_en if en and rs.baseline is not None else base["name"],
            "working_days": base["working_days"],
            "steps": base["steps"],
            "departments": base["departments"],
            "saving_days": days,
            "saving_pct": days / float(base["working_days"]),
            "saving_steps": int(base["steps"]) - parts.approval,
        }

    fee_rows = parts.fee_rows
    fees = [row for v in (*steps, *completion_views) for row in fee_rows[v.id]]
    intermediaries: dict[str, dict[str, Any]] = {}
    for v in (*steps, *completion_views):
        for inter in v.intermediaries:
            row = intermediaries.setdefault(inter["kind"], {**inter, "steps": []})
            if v.name not in row["steps"]:  # a step listed once however many of its parts need the service
                row["steps"].append(v.name)
    short = parts.short
    figures = notice_pictures(schedule, cal, short, parts.joint_ids, pictures)

    sit = rs.situations.get(match.situation or "")
    generated = generated or dt.date.today()
    if isinstance(generated, dt.datetime):
        generated = generated.date()
    committed = [v for v in steps if v.committed]
    warnings = notice_warnings(schedule, cal, lang)
    estimated_from = None
    if schedule.start is not None and cal is not None and schedule.estimated_from is not None:
        estimated_from = cal.estimated_from(schedule.start)
    pre = parts.pre
    # the flow's parts are shared by every notice of the flow: the context gets its own top-level
    # lists and dicts (the templates only read them; a user's templates run in the immutable sandbox)
    return {
        "title": "One-Time Notice for Construction Project Approval" if en else "建设项目审批一次性告知书",
        "lang": lang,
        "header": {
            # control characters (ESC, NUL, ...) mean nothing on a notice and must not reach a terminal
            "project_name": clean(project_name) if project_name else project_name,
            "applicant": clean(applicant) if applicant else applicant,
            "situation": {"id": match.situation, "name": _en(sit, lang) if sit else match.name},
            "flowchart": dict(parts.flowchart),
            "category": parts.category,
            "answers": [
                {"attribute": a.attribute, "value": a.value, "label": a.label, "value_label": a.value_label}
                if not en
                else _answer_en(rs, a)
                for a in match.selected_by
            ],
            "flags": [
                {"id": f, "label": rs.flags[f].gloss if en else rs.flags[f].label}
                for f, on in match.flags.items()
                if on and f in rs.flags
            ],
            "ruleset": dict(parts.ruleset),
            "generated": generated,
            "centre": dict(parts.centre),
            "disclaimer": parts.disclaimer,
            "mode": schedule.mode,
        },
        "overview": {
            "steps": len(pre),
            "approval_steps": parts.approval,
            "not_counted": len(pre) - parts.approval,
            "completion_steps": len(parts.completion),
            "departments": parts.departments,
            "materials": len(mats.before_construction),
            "materials_completion": len(mats.at_completion),
            "materials_total": len(mats.to_prepare),
            "requisites": mats.requisites,
            "issued": len(mats.issued),
            "spared": mats.spared,
            "working_days": schedule.working_days,
            "elapsed_working_days": schedule.elapsed_working_days,
            "start": schedule.start,
            "finish": schedule.finish,
            "counted_finish": schedule.counted_finish,
            "baseline": saving,
            "joint": list(parts.joint),
            "committed": len(committed),
            "commitment_available": sum(v.commitment_available for v in steps),
            "critical_path": [names.get(s, s) for s in schedule.critical_path if sched_by_id[s].counted],
            "deficiency": len(mats.deficiency_tolerated),
        },
        "pictures": figures,
        "materials": mats,
        "steps": steps,
        "not_counted": [v for v in steps if not v.counted],
        "completion": completion_views,
        "fees": fees,
        "administrative_fees": [f for f in fees if f["administrative"]],
        "intermediaries": list(intermediaries.values()),
        "commitments": [
            {
                "step": v.name,
                "department": v.department,
                "letter": v.commitment_letter,
                "duration": v.commitment_duration,
            }
            for v in committed
        ],
        "warnings": warnings,
        "estimated_from": estimated_from,
        "closing": CLOSING_EN if en else CLOSING,
        "not_counted_basis": NOT_COUNTED_BASIS_EN if en else NOT_COUNTED_BASIS,
        "step_names": dict(names),
        "used_by": {m.id: _used_by(m.steps, names, numbers, lang) for m in mats.to_prepare},
        "issued_used_by": {m.id: _used_by(m.steps, names, numbers, lang) for m in mats.issued},
        "department_names": dict(parts.department_names),
        "department_shorts": dict(short),
        "stages": dict(STAGE_LABELS_EN if en else STAGES),  # a copy: nothing a template does reaches the next notice
        "joint_ids": dict(parts.joint_ids),
        "critical_ids": [s for s in schedule.critical_path if sched_by_id[s].counted],
        "rules_compare": list(compare),
        **({"source_labels": dict(SOURCE_LABELS_EN), "medium_labels": dict(MEDIUM_LABELS_EN)} if en else {}),
    }


def _answer_en(rs: RuleSet, a: Any) -> dict[str, Any]:
    """One answer that selected the flowchart, with the attribute's and the value's English glosses."""
    attr = rs.attributes.get(a.attribute)
    value = attr.values.get(a.value) if attr is not None else None
    return {
        "attribute": a.attribute,
        "value": a.value,
        "label": attr.gloss if attr else a.label,
        "value_label": value.gloss if value else a.value_label,
    }


def _step_en(step: ResolvedStep) -> str:
    """A step's English name: its item's (a step's own Chinese name has no English twin)."""
    return step.item.name_en or step.name


def _english_issued(m: Any, rs: RuleSet) -> Any:
    """An issued material with its English name (as :func:`_english_materials` names it)."""
    from dataclasses import replace

    data = rs.materials.get(m.id)
    return replace(m, name=(data.name_en or m.name) if data is not None else m.name)


def _english_materials(mats: MaterialList, rs: RuleSet, steps: Mapping[str, str]) -> MaterialList:
    """The consolidated materials with their English names."""
    from dataclasses import replace

    def en(mid: str, name: str) -> str:
        m = rs.materials.get(mid)
        return (m.name_en or name) if m is not None else name

    def prepared(m: Any) -> Any:
        data = rs.materials.get(m.id)
        if m.commitment_for is not None:  # a commitment letter: not in the rule-set's materials
            return replace(
                m,
                name=f"Commitment letter ({steps.get(m.commitment_for, m.commitment_for)})",
                condition=COMMITMENT_CONDITION_EN if m.condition else None,
            )
        if data is None:
            return m
        return replace(
            m,
            name=en(m.id, m.name),
            condition=(data.condition_en or m.condition) if m.condition else None,
            note=(data.note_en or m.note) if m.note else None,
        )

    return replace(
        mats,
        to_prepare=tuple(prepared(m) for m in mats.to_prepare),
        issued=tuple(_english_issued(m, rs) for m in mats.issued),
        on_file=tuple(replace(m, name=en(m.id, m.name)) for m in mats.on_file),
    )


_PICTURES_LIMIT = 128
"""Notices' pictures kept: each entry is about 80 KB of SVG (the flowchart and the Gantt chart of
one flow, start date and language), so at most about 10 MB."""
_PICTURES: dict[Hashable, Mapping[str, Any]] = {}
_ENGINES: dict[str | None, str] = {}


def _layout_engine() -> str:
    """:func:`flowmatch.pictures.layout_engine`, asked once per ``PATH`` (it searches for ``dot``)."""
    path = os.environ.get("PATH")
    found = _ENGINES.get(path)
    if found is None:
        from .pictures import layout_engine

        found = _ENGINES[path] = layout_engine()
    return found


def _pictures_key(
    schedule: Schedule,
    cal: WorkCalendar | None,
    short: Mapping[str, str],
    joint_ids: Mapping[str, bool],
    pictures: str,
    lang: str,
    names: Mapping[str, str] | None,
) -> Hashable:
    """Everything the pictures are drawn from: every field of every step they show, the start,
    the calendar (by identity: it is immutable), the names and marks, the language and the layout."""
    return (
        pictures,
        lang,
        tuple(
            [
                (
                    s.id,
                    s.name,
                    s.department,
                    s.duration,
                    s.counted,
                    s.critical,
                    s.stage,
                    s.depends_on,
                    s.es,
                    s.ef,
                    s.elapsed_es,
                    s.elapsed_ef,
                )
                for s in schedule.steps
            ]
        ),
        schedule.start,
        schedule.elapsed_working_days,
        cal if schedule.start is not None else None,
        tuple(short.items()),
        tuple(joint_ids.items()),
        tuple(names.items()) if names is not None else None,
        _layout_engine() if pictures == "svg" else None,
    )


def notice_pictures(
    schedule: Schedule,
    cal: WorkCalendar | None,
    short: Mapping[str, str],
    joint_ids: Mapping[str, bool],
    pictures: Literal["svg", "mermaid", "none"],
    lang: str = "zh",
    names: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The notice's figures: the flowchart and Gantt chart as SVG (HTML, PDF), the flowchart as
    Mermaid (Markdown), or none (the notice as data).  ``names``: the steps' names in ``lang``.

    Drawn once per schedule (by content), calendar, names and language: the last
    :data:`_PICTURES_LIMIT` are kept, so notices of the same flow and dates share them."""
    if pictures not in ("svg", "mermaid"):
        return {}
    key = _pictures_key(schedule, cal, short, joint_ids, pictures, lang, names)
    found = _PICTURES.get(key)
    if found is None:
        found = _draw_pictures(schedule, cal, short, joint_ids, pictures, lang, names)
        try:
            while len(_PICTURES) >= _PICTURES_LIMIT:
                _PICTURES.pop(next(iter(_PICTURES)), None)  # the oldest
        except (RuntimeError, StopIteration):  # another thread changed it meanwhile: it stays bounded
            pass
        _PICTURES[key] = found
    return dict(found)  # the notice's own dict: nothing a template does reaches the next notice


def _draw_pictures(
    schedule: Schedule,
    cal: WorkCalendar | None,
    short: Mapping[str, str],
    joint_ids: Mapping[str, bool],
    pictures: str,
    lang: str,
    names: Mapping[str, str] | None,
) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    if names is not None:
        from dataclasses import replace

        schedule = replace(schedule, steps=tuple(replace(s, name=names.get(s.id, s.name)) for s in schedule.steps))
    if pictures == "svg":
        from .pictures import flowchart_svg, gantt_svg

        diagram = flowchart_svg(schedule, short, joint_ids, lang=lang)
        dates: dict[int, dt.date] = {}
        if schedule.start is not None and cal is not None:
            total = int(schedule.elapsed_working_days + 0.999)
            current = schedule.start
            dates[0] = current
            workday, one = cal.is_workday, dt.timedelta(days=1)
            for i in range(1, total + 1):  # cal.add(previous, 1), one day at a time
                current += one
                while not workday(current):
                    current += one
                dates[i] = current
        figures = {
            "flowchart": Markup(diagram.svg),
            "layout": diagram.layout,
            "gantt": Markup(gantt_svg(schedule, dates=dates, lang=lang)),
        }
    elif pictures == "mermaid":
        from .pictures import flowchart_mermaid

        figures = {"mermaid": Markup(flowchart_mermaid(schedule, short, lang))}
    return figures


def notice_warnings(schedule: Schedule, calendar: WorkCalendar | None, lang: str = "zh") -> list[str]:
    """What the applicant must know about the dates: one plain-Chinese note per year whose
    holiday arrangements are not yet published (no program options: the notice is for the
    applicant), then any other warning of the schedule (each once)."""
    out: list[str] = []
    calendar_notes: set[str] = set()
    if calendar is not None and schedule.start is not None:
        dates = [d for s in schedule.steps for d in (s.start, s.end) if d is not None]
        end = max([*dates, schedule.finish or schedule.start])
        calendar_notes = set(calendar.assumptions(schedule.start, end))
        for year in calendar.unpublished_years(schedule.start, end):
            if lang == "en":
                how = (
                    "counted with Monday to Friday as working days"
                    if calendar.assume_weekends
                    else "inferred from the statutory holidays (without working-day swaps)"
                )
                out.append(
                    f"The public holidays of {year} are not yet published; the dates marked “(estimated)” "
                    f"in this notice are {how}; the arrangements published then prevail."
                )
                continue
            how = "按周一至周五为工作日估算" if calendar.assume_weekends else "按法定节假日推算（未计调休）"
            out.append(f"{year}年节假日安排尚未公布，本告知书中标注“预计”的日期{how}，以届时公布的安排为准。")
    out += [w for w in schedule.warnings if w not in calendar_notes]
    return list(dict.fromkeys(out))


# --- PDF ------------------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def find_cjk_font() -> tuple[str, str | None] | None:
    """A Chinese font on this system as (family, file), or None.

    Asks fontconfig (``fc-list :lang=zh``) first, then looks in the usual Debian, macOS and
    Windows places.
    """
    fc = shutil.which("fc-list")
    if fc:
        try:
            out = subprocess.run(
                [fc, ":lang=zh", "family", "file"], capture_output=True, text=True, timeout=20, check=False
            ).stdout
        except (OSError, subprocess.SubprocessError):
            out = ""
        found: dict[str, str] = {}
        for line in out.splitlines():
            path, _, families = line.partition(":")
            for fam in families.split(","):
                fam = fam.strip()
                if fam:
                    found.setdefault(fam, path.strip())
        for fam in CJK_FAMILIES:
            if fam in found:
                return fam, found[fam]
        if found:
            fam = sorted(found)[0]
            return fam, found[fam]
    for path in CJK_PATHS:
        if Path(path).is_file():
            return "FlowmatchCJK", path
    return None


def pdf_engine() -> str:
    """The PDF engine in use: ``$FLOWMATCH_PDF_ENGINE`` (``typst``, ``chromium`` or ``weasyprint``) when
    set, else the first installed of Typst, Chromium and WeasyPrint (:func:`flowmatch.pdf.engine`, ADR 0010)."""
    from .pdf import engine

    return engine()


def pdf_available() -> bool:
    """Whether this installation can print PDF notices (an engine and a CJK font; see :func:`pdf_engine`)."""
    try:
        engine = pdf_engine()
    except InputError:
        return False
    if engine == "typst":
        from .typeset import available

        ok = available()
    elif engine == "chromium":
        from .pdf import find_chromium

        ok = find_chromium() is not None
    else:
        from importlib.util import find_spec

        ok = find_spec("weasyprint") is not None
    return ok and find_cjk_font() is not None


NO_CJK_FONT = (
    "PDF output needs a Chinese (CJK) font and none was found; install one, e.g. on Debian "
    "apt-get install fonts-noto-cjk (or fonts-wqy-microhei), then try again"
)


def notice_pdf(context: Mapping[str, Any], templates: Path | None, lang: str, html: Callable[[], str]) -> bytes:
    """The notice of ``context`` (with its SVG pictures) as PDF, printed by :func:`pdf_engine`: typeset
    from the Typst templates (:mod:`flowmatch.typeset`), or the HTML notice (``html()`` renders it)
    printed by Chromium or WeasyPrint."""
    if pdf_engine() == "typst":
        from .typeset import typeset

        return typeset(context, templates, lang)
    return _pdf(html())


def _pdf(html: str) -> bytes:
    if pdf_engine() == "chromium":
        from .pdf import html_to_pdf

        if find_cjk_font() is None:
            raise RenderError(NO_CJK_FONT)
        return html_to_pdf(html)
    return _weasyprint(html)


def _weasyprint(html: str) -> bytes:
    try:
        import weasyprint  # type: ignore[import-untyped,import-not-found,unused-ignore]
    except ImportError:
        raise RenderError(
            "PDF output needs WeasyPrint, which is not installed: pip install 'flowmatch[weasyprint]' "
            "(on Debian also: apt-get install libpango-1.0-0 libpangoft2-1.0-0); "
            "or write HTML and print it from a browser"
        ) from None
    except OSError as exc:
        raise RenderError(
            f"PDF output needs WeasyPrint's system libraries ({exc}); on Debian: "
            "apt-get install libpango-1.0-0 libpangoft2-1.0-0"
        ) from None
    font = find_cjk_font()
    if font is None:
        raise RenderError(NO_CJK_FONT)
    family, path = font
    face = ""
    if family == "FlowmatchCJK" and path:
        face = f"@font-face {{ font-family: 'FlowmatchCJK'; src: url('{Path(path).as_uri()}'); }}\n"
    css = weasyprint.CSS(string=face + f"html, body, svg, svg text {{ font-family: '{family}', sans-serif; }}\n")
    try:
        out: bytes = weasyprint.HTML(string=html, base_url=str(default_guides_path())).write_pdf(stylesheets=[css])
    except Exception as exc:  # WeasyPrint has no error hierarchy of its own
        raise RenderError(f"PDF rendering failed in WeasyPrint: {type(exc).__name__}: {exc}") from None
    return out


# --- the entry point ----------------------------------------------------------------------------------
def render_guide(
    match: MatchResult,
    schedule: Schedule,
    format: str = "html",
    *,
    ruleset: RuleSet | None = None,
    project_name: str | None = None,
    applicant: str | None = None,
    on_file: Iterable[str | OnFile] = (),
    templates: str | os.PathLike[str] | None = None,
    generated: dt.date | None = None,
    calendar: WorkCalendar | None = None,
    compare: Sequence[Mapping[str, Any]] = (),
) -> str | bytes:
    """The one-time notice for a matched project and its schedule.

    ``format``: ``html`` (one self-contained file, A4 print stylesheet), ``md`` (Markdown) or
    ``pdf`` (bytes; needs the ``[pdf]`` extra (Typst), Chromium or WeasyPrint, and a CJK font).
    ``templates``: a directory of Jinja templates overriding the packaged ones by name (run sandboxed).
    ``on_file``: material ids already in the certificate database, or :class:`~flowmatch.materials.OnFile` entries from
    :func:`flowmatch.certificates_on_file` (with certificate numbers, and why an expired one is asked).
    ``generated``: the notice date (default today).
    ``calendar``: the working-day calendar the schedule used (for 容缺 supply-by dates).
    ``compare``: the project under other rule-sets too (rows of :func:`flowmatch.diff.under_each`).
    """
    if format not in FORMATS:
        raise InputError(f"unknown format {format!r}", allowed=FORMATS)
    from .notice import _render_source, _source

    # the same context and renderer as flowmatch.notice.render, without building the Notice data
    src = _source(
        match,
        schedule,
        ruleset=ruleset,
        name=project_name,
        applicant=applicant,
        on_file=on_file,
        generated=generated,
        calendar=calendar,
        compare=compare,
    )
    return _render_source(src, format, templates)


# --- golden files (kept in flowmatch.golden; this entry point stays for the documented command) ---------
def _main(argv: Sequence[str]) -> int:
    from .golden import main

    return main(argv)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(_main(sys.argv[1:]))
