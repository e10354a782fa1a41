"""Consolidating a flow's materials into the one-time notice's list (SPEC §7).

Each material appears once however many steps need it, with the steps that use it.  Materials
produced by an earlier step of the same flow (an ancestor in the DAG, via ``produces``) are issued
to the applicant during the process and never asked.  Materials the applicant has on file in the
certificate database (证照数据库) are removed and counted: ``on_file`` takes material ids (typed by
hand) or :class:`OnFile` entries (looked up in the database by the applicant's credit code, with the
certificate number — or, for an expired or revoked certificate, why the material is asked again).
In commitment (告知承诺) mode each committed step adds a signed commitment letter.  容缺 materials
(``deficiency``) get a supply-by date: ``days`` working days after the acceptance day of the first
step that asks them.

Pure functions over a resolved flow and (optionally) its schedule; nothing is printed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .calendar import WorkCalendar
from .errors import InputError
from .flows import ResolvedFlow
from .labels import MEDIUM_LABELS, SOURCE_LABELS
from .ruleset import RuleSet
from .scheduler import Schedule

__all__ = [
    "COMMITMENT_PREFIX",
    "CommitmentLetter",
    "IssuedMaterial",
    "MaterialList",
    "OnFile",
    "PreparedMaterial",
    "SparedMaterial",
    "check_on_file",
    "consolidate",
]

COMMITMENT_PREFIX = "commitment_letter__"


@dataclass(frozen=True)
class PreparedMaterial:
    """A material the applicant prepares, listed once, with every step that asks it."""

    number: int
    id: str
    name: str
    source: str
    issuer: str | None
    original: int
    copies: int
    medium: str
    condition: str | None
    note: str | None
    steps: tuple[str, ...]
    completion_only: bool
    deficiency_days: int | None
    supply_by: dt.date | None
    commitment_for: str | None = None
    asked_again: str | None = None
    """Why a material the certificate database holds is asked anyway (its certificate expired or was revoked)."""

    @property
    def source_label(self) -> str:
        return SOURCE_LABELS[self.source]

    @property
    def medium_label(self) -> str:
        return MEDIUM_LABELS[self.medium]

    @property
    def deficiency(self) -> bool:
        return self.deficiency_days is not None


@dataclass(frozen=True)
class IssuedMaterial:
    """A material an earlier step of this flow issues; the applicant is never asked for it."""

    id: str
    name: str
    produced_by: str
    steps: tuple[str, ...]


@dataclass(frozen=True)
class SparedMaterial:
    """A material found on file in the certificate database: not asked."""

    id: str
    name: str
    steps: tuple[str, ...]
    certificate: str | None = None
    """The certificate number in the database (empty when the id was typed by hand)."""


@dataclass(frozen=True)
class OnFile:
    """A material the applicant has on file: usable (``asked_again`` empty) or not, and why."""

    material: str
    certificate: str | None = None
    issuer: str | None = None
    asked_again: str | None = None

    @property
    def usable(self) -> bool:
        return self.asked_again is None


def _entries(on_file: Iterable[str | OnFile]) -> dict[str, OnFile]:
    """``on_file`` as entries by material; a usable entry wins over an unusable one for the same id."""
    out: dict[str, OnFile] = {}
    for entry in on_file:
        if isinstance(entry, str):
            if not entry.strip():
                continue
            entry = OnFile(entry.strip())
        found = out.get(entry.material)
        if found is None or (not found.usable and entry.usable):
            out[entry.material] = entry
    return out


@dataclass(frozen=True)
class CommitmentLetter:
    """告知承诺: the letter the applicant signs for one committed step."""

    step: str
    material: str
    letter: str
    duration: float


@dataclass(frozen=True)
class MaterialList:
    """The consolidated materials of one flow for one applicant."""

    flowchart: str
    to_prepare: tuple[PreparedMaterial, ...]
    issued: tuple[IssuedMaterial, ...]
    on_file: tuple[SparedMaterial, ...]
    commitments: tuple[CommitmentLetter, ...]
    requisites: int
    by_step: Mapping[str, tuple[str, ...]]

    @property
    def spared(self) -> int:
        """How many materials the certificate database spared the applicant."""
        return len(self.on_file)

    @property
    def before_construction(self) -> tuple[PreparedMaterial, ...]:
        return tuple(m for m in self.to_prepare if not m.completion_only)

    @property
    def at_completion(self) -> tuple[PreparedMaterial, ...]:
        return tuple(m for m in self.to_prepare if m.completion_only)

    @property
    def deficiency_tolerated(self) -> tuple[PreparedMaterial, ...]:
        return tuple(m for m in self.to_prepare if m.deficiency)

    def get(self, material_id: str) -> PreparedMaterial:
        for m in self.to_prepare:
            if m.id == material_id:
                return m
        from .errors import UnknownMaterialError

        raise UnknownMaterialError(material_id, [m.id for m in self.to_prepare])


def _ancestors(flow: ResolvedFlow) -> dict[str, frozenset[str]]:
    """Every step's ancestors (transitive prerequisites), in one pass over topological order."""
    out: dict[str, frozenset[str]] = {}
    for sid, step in flow.steps.items():
        acc: set[str] = set()
        for dep in step.depends_on:
            acc.add(dep)
            acc |= out.get(dep, frozenset())
        out[sid] = frozenset(acc)
    return out


def _committed(flow: ResolvedFlow, schedule: Schedule | None, commitment: bool | None) -> list[str]:
    if schedule is not None and commitment is None:
        return [s.id for s in schedule.steps if s.committed]
    if not commitment:
        return []
    return [s.id for s in flow.steps.values() if s.commitment is not None and not s.completion]


def check_on_file(flow: ResolvedFlow, ruleset: RuleSet, on_file: Iterable[str | OnFile]) -> tuple[str, ...]:
    """The on-file ids, cleaned and de-duplicated; an unknown id is an :class:`InputError`."""
    ids = tuple(_entries(on_file))
    unknown = [m for m in ids if m not in ruleset.materials]
    if unknown:
        mine = sorted({m for s in flow.steps.values() for m in s.materials})
        raise InputError(
            f"unknown material id{'s' if len(unknown) > 1 else ''} on file: {', '.join(unknown)}", allowed=mine
        )
    return ids


@dataclass(frozen=True)
class _FlowMaterials:
    """What consolidating a flow's materials finds before any applicant: who asks and who issues each.

    ``asked``: per asked material, in the order first asked: its id, the steps asking it, the
    material as listed (unnumbered, undated), its 容缺 days and its place in the list."""

    asked: tuple[tuple[str, tuple[str, ...], PreparedMaterial, int | None, tuple[bool, int]], ...]
    issued: tuple[IssuedMaterial, ...]
    requisites: int
    order: Mapping[str, int]
    by_step: Mapping[str, tuple[str, ...]]
    """The materials each step asks when none is on file and no step is committed."""


def _flow_materials(flow: ResolvedFlow, ruleset: RuleSet) -> _FlowMaterials:
    """The flow's :class:`_FlowMaterials`, computed once per resolved flow (on the rule-set)."""
    from .derived import per_flow

    return per_flow(ruleset.derived.flow_materials, flow, None, lambda: _analyse(flow, ruleset))


def _analyse(flow: ResolvedFlow, ruleset: RuleSet) -> _FlowMaterials:
    ancestors = _ancestors(flow)
    producers: dict[str, list[str]] = {}
    for sid, step in flow.steps.items():
        for m in step.produces:
            producers.setdefault(m, []).append(sid)

    asked: dict[str, list[str]] = {}
    issued: dict[str, tuple[str, list[str]]] = {}
    for sid, step in flow.steps.items():
        for mid in step.materials:
            source = next((p for p in producers.get(mid, ()) if p in ancestors[sid]), None)
            if source is not None:
                issued.setdefault(mid, (source, []))[1].append(sid)
            else:
                asked.setdefault(mid, []).append(sid)

    order = {sid: i for i, sid in enumerate(flow.steps)}
    by_step: dict[str, list[str]] = {sid: [] for sid in flow.steps}
    rows = []
    for mid, users in asked.items():
        mat = ruleset.materials[mid]
        for sid in users:
            by_step[sid].append(mid)
        completion_only = all(flow.steps[s].completion for s in users)
        listed = PreparedMaterial(
            number=0,
            id=mid,
            name=mat.name,
            source=mat.source,
            issuer=mat.issuer,
            original=mat.original,
            copies=mat.copies,
            medium=mat.medium,
            condition=mat.condition,
            note=mat.note,
            steps=tuple(users),
            completion_only=completion_only,
            deficiency_days=mat.deficiency.days if mat.deficiency is not None else None,
            supply_by=None,
        )
        rows.append(
            (mid, tuple(users), listed, listed.deficiency_days, (completion_only, min(order[s] for s in users)))
        )
    return _FlowMaterials(
        asked=tuple(rows),
        issued=tuple(
            IssuedMaterial(mid, ruleset.materials[mid].name, src, tuple(users)) for mid, (src, users) in issued.items()
        ),
        requisites=sum(len(s.materials) for s in flow.steps.values()),
        order=order,
        by_step={sid: tuple(ids) for sid, ids in by_step.items()},
    )


def _with(material: PreparedMaterial, **changes: object) -> PreparedMaterial:
    """``dataclasses.replace(material, **changes)`` without its per-field overhead (a notice numbers
    and dates every material; the dataclass has no ``__post_init__``)."""
    out: PreparedMaterial = object.__new__(PreparedMaterial)
    state = out.__dict__
    state.update(material.__dict__)
    state.update(changes)
    return out


def consolidate(
    flow: ResolvedFlow,
    ruleset: RuleSet,
    *,
    schedule: Schedule | None = None,
    calendar: WorkCalendar | None = None,
    on_file: Iterable[str | OnFile] = (),
    commitment: bool | None = None,
) -> MaterialList:
    """The materials of ``flow`` consolidated for the one-time notice.

    ``schedule`` supplies step start dates (for 容缺 supply-by dates) and, unless ``commitment``
    is given, which steps are committed.  ``on_file`` ids must be known materials; an unknown id is
    an :class:`InputError` listing the flow's materials.  ``calendar`` counts the supply-by working
    days (default: the official calendar).
    """
    entries = _entries(on_file)
    check_on_file(flow, ruleset, entries.values())
    parts = _flow_materials(flow, ruleset)  # who asks and who issues what: the same for every applicant

    starts: dict[str, dt.date] | None = None
    cal = calendar
    prepared: list[tuple[tuple[bool, int], PreparedMaterial]] = []
    spared: list[SparedMaterial] = []
    for mid, users, listed, days, place in parts.asked:
        entry = entries.get(mid) if entries else None
        if entry is not None and entry.usable:
            spared.append(SparedMaterial(mid, listed.name, users, entry.certificate))
            continue
        changes: dict[str, object] = {}
        if days is not None and schedule is not None:
            if starts is None:
                starts = {s.id: s.start for s in schedule.steps if s.start is not None}
            first_dated = next((starts[s] for s in users if s in starts), None)
            if first_dated is not None:
                if cal is None:
                    cal = WorkCalendar()
                changes["supply_by"] = cal.add(first_dated, days)
        if entry is not None and entry.asked_again is not None:
            changes["asked_again"] = entry.asked_again
        prepared.append((place, _with(listed, **changes) if changes else listed))

    letters: list[CommitmentLetter] = []
    for sid in _committed(flow, schedule, commitment):
        step = flow.steps[sid]
        if step.commitment is None:
            continue
        mid = COMMITMENT_PREFIX + sid
        letters.append(CommitmentLetter(sid, mid, step.commitment.letter, step.commitment.duration))
        prepared.append(
            (
                (False, parts.order[sid]),
                PreparedMaterial(
                    number=0,
                    id=mid,
                    name=f"告知承诺书（{step.name}）",
                    source="commitment",
                    issuer=None,
                    original=1,
                    copies=0,
                    medium="paper",
                    condition="选择告知承诺方式办理时提供",
                    note=None,
                    steps=(sid,),
                    completion_only=False,
                    deficiency_days=None,
                    supply_by=None,
                    commitment_for=sid,
                ),
            )
        )

    if spared or letters:
        lists: dict[str, list[str]] = {sid: [] for sid in flow.steps}
        for _, m in prepared:
            if m.commitment_for is None:
                for sid in m.steps:
                    lists[sid].append(m.id)
        for letter in letters:
            lists[letter.step].append(letter.material)
        by_step = {sid: tuple(ids) for sid, ids in lists.items()}
    else:
        by_step = dict(parts.by_step)
    prepared.sort(key=lambda row: row[0])  # stable: the order first asked, then the letters
    numbered = tuple(_with(m, number=i) for i, (_, m) in enumerate(prepared, start=1))
    return MaterialList(
        flowchart=flow.id,
        to_prepare=numbered,
        issued=parts.issued,
        on_file=tuple(spared),
        commitments=tuple(letters),
        requisites=parts.requisites,
        by_step=by_step,
    )
