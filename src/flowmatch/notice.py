"""The one-time notice (一次性告知书) as a value: build it once, render it in any format.

This is the core of the product's central pipeline — match, schedule, consolidate the materials,
render — and the one place it exists.  Every face calls it and nothing else: ``flowmatch guide``
(one project or a batch, :mod:`flowmatch.batch`), ``flowmatch ask --notice``, the web page
``/notice`` and the golden files (:mod:`flowmatch.golden`).

:func:`build_notice` takes a profile (or a matched questionnaire :class:`~flowmatch.wizard.Outcome`)
and returns a frozen :class:`Notice`: the steps with their dates and ``estimated`` marks, the
materials with where each is first used, fees, joint procedures, commitments and warnings — plain
data with a JSON Schema (:func:`notice_schema`, shipped as ``flowmatch/schemas/notice.schema.json``
and printed by ``flowmatch schema notice``).  :func:`render` writes it as HTML, Markdown, PDF or
JSON; the templates get the same context for every format (:mod:`flowmatch.render`).

A notice read back from JSON (``Notice.model_validate_json``) is data only: it renders as JSON,
not as HTML, Markdown or PDF (those need the rule-set it was built from).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, PrivateAttr

from .errors import InputError, RenderError

if TYPE_CHECKING:
    from .calendar import WorkCalendar
    from .matcher import MatchResult
    from .materials import OnFile
    from .ruleset import RuleSet
    from .scheduler import Schedule
    from .wizard import Outcome

__all__ = [
    "NOTICE_FORMATS",
    "Notice",
    "NoticeFee",
    "NoticeMaterial",
    "NoticeStep",
    "build_notice",
    "notice_from",
    "notice_schema",
    "render",
    "render_notice",
]

NoticeFormat = Literal["html", "md", "pdf", "json"]
NOTICE_FORMATS: tuple[str, ...] = ("html", "md", "pdf", "json")
LANGS: tuple[str, ...] = ("zh", "en")
SCHEMA_ID = "https://flowmatch.invalid/schemas/notice/1"


class _Data(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Ref(_Data):
    """An id with its name (a situation, a flag)."""

    id: str | None
    name: str | None


class FlowchartRef(_Data):
    id: str
    name: str
    name_en: str | None = None
    description: str | None = None


class RuleSetRef(_Data):
    name: str
    version: str | None = None
    region: str | None = None
    effective_date: dt.date | None = None


class Answer(_Data):
    """One answer that selected the flowchart (attribute, value and their labels)."""

    attribute: str
    value: str
    label: str
    value_label: str


class NoticeFee(_Data):
    step: str
    department: str
    name: str
    basis: str | None = None
    standard: str | None = None
    administrative: bool
    kind_label: str
    status: str | None = None


class NoticeStep(_Data):
    """One step as the notice lists it, numbered in the order the applicant meets it."""

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
    estimated: bool
    """A date of this step rests on a year whose holiday arrangements are not yet published (预计)."""
    committed: bool
    commitment_available: bool
    completion: bool
    materials: tuple[str, ...]
    """Ids of the materials the applicant brings to this step."""
    issued: tuple[str, ...]
    """Ids of the materials an earlier step issues for this one (never asked)."""
    spared: tuple[str, ...]
    """Ids of the materials found on file for this one (never asked)."""
    produces: tuple[str, ...]
    result: str | None
    legal_basis: tuple[str, ...]
    note: str | None


class NoticeMaterial(_Data):
    """A material to prepare, listed once, with every step that asks it."""

    number: int
    id: str
    name: str
    source: str
    source_label: str
    issuer: str | None
    original: int
    copies: int
    medium: str
    condition: str | None
    note: str | None
    steps: tuple[str, ...]
    first_used: str | None
    """The step (id) that asks it first, in the notice's order."""
    used_by: str
    """Where it is used, as the notice prints it."""
    completion_only: bool
    deficiency_days: int | None
    supply_by: dt.date | None


class IssuedMaterial(_Data):
    id: str
    name: str
    produced_by: str
    steps: tuple[str, ...]


class JointProcedure(_Data):
    """联合办理: one step several departments do together."""

    name: str
    department: str
    members: tuple[str, ...]
    completion: bool


class Commitment(_Data):
    step: str
    department: str
    letter: str | None
    duration: float | None


class Notice(_Data):
    """Everything a one-time notice says, as data (JSON: :meth:`model_dump_json`)."""

    schema_id: Literal["https://flowmatch.invalid/schemas/notice/1"] = "https://flowmatch.invalid/schemas/notice/1"
    title: str
    project_name: str | None
    applicant: str | None
    generated: dt.date
    ruleset: RuleSetRef
    situation: Ref
    flowchart: FlowchartRef
    category: str | None
    mode: str
    answers: tuple[Answer, ...]
    flags: tuple[Ref, ...]
    start: dt.date | None
    finish: dt.date | None
    counted_finish: dt.date | None
    working_days: float
    elapsed_working_days: float
    estimated_from: dt.date | None
    critical_path: tuple[str, ...]
    steps: tuple[NoticeStep, ...]
    completion: tuple[NoticeStep, ...]
    materials: tuple[NoticeMaterial, ...]
    issued: tuple[IssuedMaterial, ...]
    on_file: tuple[str, ...]
    fees: tuple[NoticeFee, ...]
    joint: tuple[JointProcedure, ...]
    commitments: tuple[Commitment, ...]
    warnings: tuple[str, ...]

    _source: _Source | None = PrivateAttr(default=None)

    def step(self, step_id: str) -> NoticeStep:
        """The step (pre-construction or completion) with this id."""
        for s in (*self.steps, *self.completion):
            if s.id == step_id:
                return s
        raise InputError(f"the notice has no step {step_id!r}", allowed=[s.id for s in (*self.steps, *self.completion)])


@dataclass(frozen=True)
class _Source:
    """What the templates need besides the data: the template context (without pictures), the
    schedule and calendar for the pictures, and the rule-set's department short names."""

    context: Mapping[str, Any]
    schedule: Schedule
    calendar: WorkCalendar | None
    english: Callable[[], Mapping[str, Any]] | None = None
    """The same context with the rule-set's words in English (built when first asked for)."""


# --- building -------------------------------------------------------------------------------------
def _not_matched(rs: RuleSet, result: MatchResult) -> str:
    """Why a profile cannot get a notice, listing what is missing or allowed."""
    if result.status == "incomplete":
        parts = []
        for attr in result.missing:
            a = rs.attributes[attr]
            parts.append(f"{attr} ({a.label}): {', '.join(a.values)}")
        return "the profile is incomplete; still needed: " + "; ".join(parts)
    if result.status == "not_applicable":
        text = f"the project is not applicable ({result.rule}): {result.reason}"
        if result.consider:
            text += f"; consider {result.consider} {rs.situations[result.consider].name}"
        return text
    return "the profile is invalid: " + "; ".join(i.text() for i in result.invalid)


def build_notice(
    profile: Mapping[str, Any] | Outcome,
    *,
    ruleset: RuleSet | None = None,
    start: dt.date | str | None = None,
    calendar: WorkCalendar | None = None,
    name: str | None = None,
    applicant: str | None = None,
    on_file: Iterable[str | OnFile] = (),
    commitment: bool = False,
    generated: dt.date | None = None,
    compare_with: Sequence[RuleSet] = (),
    credit_code: str | None = None,
    db: str | None = None,
) -> Notice:
    """Match ``profile``, schedule it from the acceptance day ``start`` and compose its notice.

    ``profile``: attribute and flag values (as for :func:`flowmatch.match`), or a matched
    questionnaire outcome.  ``start``: the acceptance day (default: the first working day from
    today; a given day must be a working day).  ``calendar``: default the official one, estimated
    past its data.  ``on_file``: material ids already in the certificate database.
    ``commitment``: 告知承诺 for eligible steps.  ``generated``: the notice date (default today).
    ``compare_with``: other rule-sets to show the project under too.  ``credit_code``: the
    applicant's 统一社会信用代码, looked up in the certificate database at ``db`` (证照数据库, on the
    acceptance day): what it holds joins ``on_file``.  A profile that does not
    match (incomplete, not applicable, invalid) is an :class:`~flowmatch.errors.InputError`
    saying what is missing or allowed.
    """
    from .calendar import WorkCalendar, acceptance_day
    from .flows import for_situation
    from .matcher import matcher_for
    from .materials import check_on_file
    from .ruleset import default_ruleset
    from .scheduler import schedule
    from .wizard import Outcome

    rs = ruleset or default_ruleset()
    cal = calendar or WorkCalendar()
    if isinstance(profile, Outcome):
        if profile.status != "matched" or profile.result is None or profile.result.situation is None:
            raise InputError(f"a notice needs a matched project; this one is {profile.status}")
        result = profile.result
        flags: Mapping[str, bool] = profile.flags
        answers: dict[str, Any] = dict(profile.answered)
        plain_profile: Mapping[str, Any] = {**answers, **{f: v for f, v in flags.items() if v}}
    else:
        matcher = matcher_for(rs)
        result = matcher.match(profile)
        if result.status != "matched":
            raise InputError(_not_matched(rs, result))
        answers, _, _ = matcher.validate(profile)
        flags = result.flags
        plain_profile = profile
    flow = for_situation(rs, result.situation or "", flags=flags, profile=answers)
    entries: list[Any] = list(on_file)
    if credit_code is not None:
        from .tracking.credit import validate_credit_code

        validate_credit_code(credit_code)  # refused before any database is opened
    check_on_file(flow, rs, entries)
    day = acceptance_day(start, cal)
    if credit_code is not None:
        from .tracking.certs import certificates_on_file

        entries += certificates_on_file(credit_code, as_of=day, db=db, ruleset=rs)
    plan = schedule(flow, day, cal, "commitment" if commitment else "standard", ruleset=rs)
    compare: tuple[Mapping[str, Any], ...] = ()
    if compare_with:  # "under the 2014 rules / under the 2019 rules" for this project
        from .diff import under_each

        compare = tuple(under_each([rs, *compare_with], plain_profile, start=day, calendar=cal))
    return notice_from(
        result,
        plan,
        ruleset=rs,
        name=name,
        applicant=applicant,
        on_file=entries,
        generated=generated,
        calendar=cal,
        compare=compare,
    )


def notice_from(
    match: MatchResult,
    schedule: Schedule,
    *,
    ruleset: RuleSet | None = None,
    name: str | None = None,
    applicant: str | None = None,
    on_file: Iterable[str | OnFile] = (),
    generated: dt.date | None = None,
    calendar: WorkCalendar | None = None,
    compare: Sequence[Mapping[str, Any]] = (),
) -> Notice:
    """The notice of a match and a schedule already made (what :func:`build_notice` ends with)."""
    src = _source(
        match,
        schedule,
        ruleset=ruleset,
        name=name,
        applicant=applicant,
        on_file=on_file,
        generated=generated,
        calendar=calendar,
        compare=compare,
    )
    notice = _from_context(src.context)
    notice._source = src
    return notice


def _from_context(ctx: Mapping[str, Any]) -> Notice:
    header, overview = ctx["header"], ctx["overview"]
    since: dt.date | None = ctx["estimated_from"]
    mats = ctx["materials"]

    def estimated(*days: dt.date | None) -> bool:
        return since is not None and any(d is not None and d >= since for d in days)

    def step(v: Any) -> NoticeStep:
        return NoticeStep(
            number=v.number,
            id=v.id,
            name=v.name,
            item=v.item,
            item_name=v.item_name,
            department=v.department,
            department_short=v.department_short,
            members=v.members,
            stage=v.stage,
            stage_label=v.stage_label,
            batch=v.batch,
            prerequisites=v.prerequisites,
            statutory=v.statutory,
            promised=v.promised,
            duration=v.duration,
            counted=v.counted,
            critical=v.critical,
            slack=v.slack,
            start=v.start,
            end=v.end,
            estimated=estimated(v.start, v.end),
            committed=v.committed,
            commitment_available=v.commitment_available,
            completion=v.completion,
            materials=tuple(m.id for m in v.materials),
            issued=tuple(m.id for m in mats.issued if v.id in m.steps),
            spared=tuple(m.id for m in mats.on_file if v.id in m.steps),
            produces=v.produces,
            result=v.result,
            legal_basis=v.legal_basis,
            note=v.note,
        )

    steps = tuple(step(v) for v in ctx["steps"])
    completion = tuple(step(v) for v in ctx["completion"])
    numbers = {s.id: s.number for s in (*steps, *completion)}
    used_by = ctx["used_by"]
    rs_head = header["ruleset"]
    return Notice(
        title=ctx["title"],
        project_name=header["project_name"],
        applicant=header["applicant"],
        generated=header["generated"],
        ruleset=RuleSetRef(
            name=rs_head["name"],
            version=_opt_str(rs_head["version"]),
            region=_opt_str(rs_head["region"]),
            effective_date=rs_head["effective_date"],
        ),
        situation=Ref(**header["situation"]),
        flowchart=FlowchartRef(**{k: header["flowchart"][k] for k in ("id", "name", "name_en", "description")}),
        category=header["category"],
        mode=header["mode"],
        answers=tuple(Answer(**a) for a in header["answers"]),
        flags=tuple(Ref(id=f["id"], name=f["label"]) for f in header["flags"]),
        start=overview["start"],
        finish=overview["finish"],
        counted_finish=overview["counted_finish"],
        working_days=overview["working_days"],
        elapsed_working_days=overview["elapsed_working_days"],
        estimated_from=since,
        critical_path=tuple(ctx["critical_ids"]),
        steps=steps,
        completion=completion,
        materials=tuple(
            NoticeMaterial(
                number=m.number,
                id=m.id,
                name=m.name,
                source=m.source,
                source_label=m.source_label,
                issuer=m.issuer,
                original=m.original,
                copies=m.copies,
                medium=m.medium,
                condition=m.condition,
                note=m.note,
                steps=m.steps,
                first_used=min(m.steps, key=lambda s: numbers.get(s, 1 << 30)) if m.steps else None,
                used_by=used_by[m.id],
                completion_only=m.completion_only,
                deficiency_days=m.deficiency_days,
                supply_by=m.supply_by,
            )
            for m in mats.to_prepare
        ),
        issued=tuple(
            IssuedMaterial(id=m.id, name=m.name, produced_by=m.produced_by, steps=m.steps) for m in mats.issued
        ),
        on_file=tuple(m.id for m in mats.on_file),
        fees=tuple(NoticeFee(**{k: f[k] for k in NoticeFee.model_fields}) for f in ctx["fees"]),
        joint=tuple(
            JointProcedure(
                name=j["name"], department=j["department"], members=tuple(j["members"]), completion=j["completion"]
            )
            for j in ctx["overview"]["joint"]
        ),
        commitments=tuple(Commitment(**c) for c in ctx["commitments"]),
        warnings=tuple(ctx["warnings"]),
    )


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


# --- rendering ------------------------------------------------------------------------------------
def render(
    notice: Notice, format: str = "html", *, templates: str | os.PathLike[str] | None = None, lang: str = "zh"
) -> str | bytes:
    """The notice as ``html`` (one self-contained file), ``md`` (Markdown), ``pdf`` (bytes) or ``json``.

    ``lang="en"``: the whole notice in English (the templates under ``guides/en/``, the rule-set's
    English names); ``json`` stays as it is (the data, in the rule-set's language).

    ``templates``: a directory of Jinja templates overriding the packaged ones by name (run
    sandboxed).  Errors: an unknown format or template directory is an
    :class:`~flowmatch.errors.InputError`; a template or PDF failure a :class:`~flowmatch.errors.RenderError`.
    """
    if format not in NOTICE_FORMATS:
        raise InputError(f"unknown format {format!r}", allowed=NOTICE_FORMATS)
    if lang not in LANGS:
        raise InputError(f"unknown language {lang!r}", allowed=LANGS)
    if format == "json":
        return notice.model_dump_json(indent=2) + "\n"
    src = notice._source
    if src is None:
        raise RenderError(
            "this notice was read back from data and carries no rule-set; it renders as json only "
            "(build it with build_notice to print it)"
        )
    return _render_source(src, format, templates, lang)


ZH_TERM = re.compile(r"(?<=[A-Za-z)] )\(([\u3400-\u9fff]+)\)")
"""An official Chinese term in brackets right after its English translation: "filing (备案)"."""


def mark_chinese_terms(html: str) -> str:
    """The English notice's HTML with each official Chinese term beside its translation marked
    ``<span lang="zh">`` (screen readers and fonts switch language; the one Chinese it may keep)."""
    parts = re.split(r"(<svg\b.*?</svg>)", html, flags=re.S)  # inside a diagram the mark is an SVG tspan
    return "".join(
        ZH_TERM.sub(
            r'(<tspan lang="zh">\1</tspan>)' if part.startswith("<svg") else r'(<span lang="zh">\1</span>)', part
        )
        for part in parts
    )


def _render_source(
    src: _Source, format: str, templates: str | os.PathLike[str] | None, lang: str = "zh"
) -> str | bytes:
    """The one renderer of HTML, Markdown and PDF (``render`` and ``render.render_guide`` both end here)."""
    tdir = None
    if templates is not None:
        tdir = Path(templates)
        if not tdir.is_dir():
            raise InputError(f"template directory {str(tdir)!r} does not exist or is not a directory")
        tdir = tdir.resolve()
    from .render import notice_pdf
    from .templates import render_template

    kind = "md" if format == "md" else "html"
    full = _template_context(src, format, lang)

    def text() -> str:
        out = render_template(kind, full, tdir, lang=lang)
        return mark_chinese_terms(out) if lang == "en" and kind == "html" else out

    if format == "pdf":  # typeset by Typst from the same context, or the HTML notice printed
        return notice_pdf(full, tdir, lang, html=text)
    return text()


def _template_context(src: _Source, format: str, lang: str = "zh") -> dict[str, Any]:
    """Exactly what the templates of ``format`` get for this notice: the context with its pictures
    (the one place it is put together; the render benchmark's bare Jinja peer uses it too)."""
    from .render import notice_pictures

    ctx = src.context
    if lang == "en":
        if src.english is None:
            raise RenderError("this notice cannot be printed in English (it was built without its rule-set)")
        ctx = src.english()
    pictures = notice_pictures(
        src.schedule,
        src.calendar,
        ctx["department_shorts"],
        ctx["joint_ids"],
        "mermaid" if format == "md" else "svg",
        lang,
        ctx["step_names"] if lang == "en" else None,
    )
    return {**ctx, "pictures": pictures, "format": format}


def _source(
    match: MatchResult,
    schedule: Schedule,
    *,
    ruleset: RuleSet | None,
    name: str | None,
    applicant: str | None,
    on_file: Iterable[str | OnFile],
    generated: dt.date | None,
    calendar: WorkCalendar | None,
    compare: Sequence[Mapping[str, Any]],
) -> _Source:
    """The template context (without pictures) of a match and a schedule, with what the pictures need."""
    from .render import build_context
    from .ruleset import default_ruleset

    rs = ruleset or default_ruleset()
    on_file = tuple(on_file)
    ctx = build_context(
        match,
        schedule,
        ruleset=rs,
        project_name=name,
        applicant=applicant,
        on_file=on_file,
        generated=generated,
        calendar=calendar,
        pictures="none",
        compare=compare,
    )
    cal = calendar or schedule.calendar
    if cal is None and schedule.start is not None:
        from .calendar import WorkCalendar

        cal = WorkCalendar()
    english: list[Mapping[str, Any]] = []

    def in_english() -> Mapping[str, Any]:
        if not english:  # once per notice; the same date as the Chinese one
            english.append(
                build_context(
                    match,
                    schedule,
                    ruleset=rs,
                    project_name=name,
                    applicant=applicant,
                    on_file=on_file,
                    generated=ctx["header"]["generated"],
                    calendar=calendar,
                    pictures="none",
                    compare=compare,
                    lang="en",
                )
            )
        return english[0]

    return _Source(context=ctx, schedule=schedule, calendar=cal, english=in_english)


render_notice = render
"""The name :func:`render` has in the ``flowmatch`` namespace (where ``render`` is a module)."""


# --- the schema -----------------------------------------------------------------------------------
def notice_schema() -> dict[str, Any]:
    """The JSON Schema of :class:`Notice` as JSON (the shipped ``schemas/notice.schema.json``)."""
    found: dict[str, Any] = json.loads(schema_path().read_text(encoding="utf-8"))
    return found


def schema_path() -> Path:
    return Path(__file__).resolve().parent / "schemas" / "notice.schema.json"


def generated_schema() -> dict[str, Any]:
    """The schema generated from the model (a test checks the shipped file is this)."""
    schema = Notice.model_json_schema(mode="serialization")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}
