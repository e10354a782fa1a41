"""The rule-set's data model: strict, frozen pydantic models, one per YAML file shape.

Unknown keys are rejected (``extra="forbid"``); ids are written once, as mapping keys or file
names, and copied into ``id`` by the loader.  Cross-references (a situation naming a flowchart, a
step naming an item) are checked by :mod:`flowmatch.ruleset`, not here.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, PlainValidator, model_validator

from . import conditions
from .conditions import Cond


def _parse_condition(value: Any) -> Cond:
    if isinstance(value, Cond):
        return value
    return conditions.parse(value)


Condition = Annotated[Cond, PlainValidator(_parse_condition), PlainSerializer(conditions.to_data)]

Text = Annotated[str, Field(min_length=1)]
Id = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z][A-Za-z0-9_]*$")]


class Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, arbitrary_types_allowed=True, defer_build=True, allow_inf_nan=False
    )


# --- manifest ------------------------------------------------------------------------------------
class Source(Model):
    title: Text
    url: str | None = None
    date: dt.date | None = None
    note: str | None = None


class ServiceCentre(Model):
    name: Text
    address: Text
    window: Text
    hours: Text
    phone: str | None = Field(None, description="left empty rather than invented")
    hotline: str | None = None
    note: str | None = None
    # English for the English notice (optional: a third-party rule-set may have none)
    name_en: str | None = None
    address_en: str | None = None
    window_en: str | None = None
    hours_en: str | None = None
    note_en: str | None = None


class Category(Model):
    label: Text
    gloss: Text
    situations: int = Field(ge=0, description="expected number of situations (SPEC §4)")
    flowcharts: int = Field(ge=0, description="expected number of flowcharts (SPEC §4)")


class PublishedFigure(Model):
    value: int | float | str
    tolerance: float = 0.0
    tolerance_kind: Literal["absolute", "relative", "exact"] = "exact"
    source: Id
    note: str | None = None
    gap: str | None = Field(None, description="why the rule-set, with the statutory order right, misses this figure")


class Stage(Model):
    """One national stage (国办发〔2019〕11号): one lead department accepts and distributes."""

    name: Text
    name_en: Text
    lead: Id


class Cap(Model):
    """A time cap a source states for a whole flow, in counted working days."""

    working_days: float = Field(gt=0)
    scope: Literal["pre_construction", "whole_process"] = "whole_process"
    source: Id
    note: str | None = None


class FourStage(Model):
    """The 2019 four-stage form: what ``flowmatch check`` proves per stage (only when declared)."""

    stages: dict[int, Stage]
    cap: Cap
    joint_drawing_review: Id = Field(description="the one item that folds fire, civil-defence and other reviews")
    commitment_verification: Id = Field(description="the item that verifies 告知承诺 items after the permit")
    source: list[Id] = []


class Tracking(Model):
    """Case-tracking settings (issue 14): the warning ladder, in working days."""

    warn_before: float = Field(2, ge=0, description="预警: this many working days before a task is due")
    urge_after: float = Field(2, ge=0, description="催办: this many working days after a task fell due")
    supervisor: Text = "督查部门"


class Manifest(Model):
    name: Text
    name_en: Text
    region: Text
    version: Text
    effective_date: dt.date
    jurisdiction: Id | None = Field(None, description="rule-sets of one jurisdiction succeed each other in time")
    effective_from: dt.date | None = None
    effective_to: dt.date | None = Field(None, description="last day in force (inclusive); empty = still in force")
    supersedes: list[Text] = Field([], description="names (directory names) of the rule-sets this one replaces")
    four_stage: FourStage | None = None
    description: str | None = None
    disclaimer: str | None = Field(None, description="one line printed on every notice")
    disclaimer_en: str | None = Field(None, description="the disclaimer in English (the English notice)")
    sources: dict[Id, Source]
    service_centre: ServiceCentre
    categories: dict[Id, Category]
    published: dict[Id, PublishedFigure] = {}
    tracking: Tracking = Tracking()
    languages: list[Literal["zh", "en"]] = Field(
        ["zh"],
        description="the languages the rule-set's texts are written in; with `en`, `flowmatch check` reports "
        "every free text that has no English twin (`*_en`)",
    )


# --- attributes ----------------------------------------------------------------------------------
class AttributeValue(Model):
    label: Text
    gloss: Text
    help: str | None = None
    help_en: str | None = None


class Attribute(Model):
    id: Id = ""
    label: Text
    gloss: Text
    help: Text
    help_en: str | None = None
    asked_when: Condition | None = None
    values: dict[Id, AttributeValue] = Field(min_length=2)


class Flag(Model):
    id: Id = ""
    label: Text
    gloss: Text
    help: Text
    help_en: str | None = None


class AttributesFile(Model):
    attributes: dict[Id, Attribute]
    flags: dict[Id, Flag] = {}


# --- situations ----------------------------------------------------------------------------------
class Situation(Model):
    id: Id = ""
    name: Text
    name_en: Text
    flowchart: Id
    when: Condition
    variants: dict[Id, Id] = {}
    frequency: float | None = Field(None, gt=0)
    source: list[Id] = []


class NotApplicable(Model):
    id: Id = ""
    when: Condition
    reason: Text
    reason_en: str | None = None
    legal_basis: str | None = None
    legal_basis_en: str | None = None
    consider: Id | None = None


# --- departments, materials, items ----------------------------------------------------------------
class Department(Model):
    id: Id = ""
    name: Text
    short: Text
    name_en: Text
    short_en: Text | None = None
    """The English short name (tables, diagram boxes); without it, ``name_en`` less a leading "Harbin "."""
    window: str | None = None
    phone: str | None = None
    successor: str | None = None
    note: str | None = None


class Deficiency(Model):
    """容缺受理: the material may be supplied later, within ``days`` working days."""

    days: int = Field(ge=1, le=60)


class Material(Model):
    id: Id = ""
    name: Text
    name_en: Text | None = None
    source: Literal["applicant", "department", "intermediary"]
    issuer: Id | None = None
    original: int = Field(1, ge=0)
    copies: int = Field(0, ge=0)
    medium: Literal["paper", "electronic", "paper_and_electronic"] = "paper"
    deficiency: Deficiency | None = None
    condition: str | None = Field(None, description="情形: when only some projects need it")
    condition_en: str | None = None
    when: Condition | None = None
    note: str | None = None
    note_en: str | None = None


class Validity(Model):
    """How long a certificate stays valid after it is issued (empty: it does not expire)."""

    years: int | None = Field(None, ge=1, le=50)
    months: int | None = Field(None, ge=1, le=600)
    days: int | None = Field(None, ge=1, le=3650)
    source: list[Id] = Field(min_length=1, description="a source id: the regulation, or `reconstruction`")
    basis: str | None = Field(None, description="the clause that sets the period")


class CertificateKind(Model):
    """A material the certificate database (证照数据库) can hold: issued by a department, with a number."""

    id: Id = ""
    issuer: Id | None = Field(None, description="default: the material's own issuer")
    validity: Validity | None = Field(None, description="empty: valid until revoked")
    note: str | None = None


class ConnectedRegister(Model):
    """A department whose register is connected to the certificate database."""

    id: Id = ""
    source: list[Id] = Field(min_length=1)
    note: str | None = None


class CertificateDatabase(Model):
    """``certificates.yaml``: which registers are connected and which materials are certificates."""

    name: Text
    source: list[Id] = Field(min_length=1)
    connected: dict[Id, ConnectedRegister]
    certificates: dict[Id, CertificateKind]


class Limit(Model):
    value: float | None = Field(None, ge=0)
    unit: Literal["working_day", "day", "month", "on_the_spot", "none"]
    minimum: float | None = Field(None, ge=0, description="a fixed minimum period (publicity, objection) in days")
    note: str | None = None
    note_en: str | None = None


PROVENANCE_FACTS = ("statutory", "promised", "members", "fees")
"""The facts of an item that carry a source tag (``provenance``)."""


class Fee(Model):
    name: Text
    basis: Text
    standard: Text
    administrative: bool = True
    kind: Literal["administrative", "fund", "land_price", "tax", "service"] | None = Field(
        None, description="行政事业性收费 / 政府性基金 / 土地价款 / 税 / 经营服务性收费"
    )
    status: str | None = None
    # English for the English notice (optional; the Chinese text is printed where one is missing)
    name_en: str | None = None
    basis_en: str | None = None
    standard_en: str | None = None
    status_en: str | None = None


class Intermediary(Model):
    kind: Text
    purpose: Text
    kind_en: str | None = None
    purpose_en: str | None = None
    seals: int = Field(0, ge=0)
    fee: bool = True


class Commitment(Model):
    """告知承诺: the item may be issued on a signed commitment within ``duration`` working days."""

    duration: float = Field(ge=0)
    letter: Text
    letter_en: str | None = None


class Item(Model):
    id: Id = ""
    name: Text
    name_en: Text
    department: Id
    members: list[Id] = []
    stage: int = Field(ge=0, le=5)
    statutory: Limit
    promised: float = Field(ge=0, description="promised (reformed) limit in working days")
    counted: bool = True
    legal_basis: list[Text] = []
    legal_basis_en: list[Text] | None = Field(None, description="legal_basis in English, one for one")
    fees: list[Fee] = []
    result: str | None = None
    result_en: str | None = None
    commitment: Commitment | None = None
    intermediaries: list[Intermediary] = []
    materials: list[Id] = []
    produces: list[Id] = []
    source: list[Id] = []
    provenance: dict[Literal["statutory", "promised", "members", "fees"], list[Id]] = Field(
        {}, description="source tags per fact: a source id, `reconstruction` or `calibrated`"
    )
    merged_into: Id | None = Field(None, description="the 2014 reform folded this item into another")
    note: str | None = None
    note_en: str | None = None

    @model_validator(mode="after")
    def _english_basis_one_for_one(self) -> Item:
        if self.legal_basis_en is not None and len(self.legal_basis_en) != len(self.legal_basis):
            raise ValueError(
                f"legal_basis_en has {len(self.legal_basis_en)} entries, legal_basis "
                f"{len(self.legal_basis)}; give one English title for each"
            )
        return self


# --- flowcharts ----------------------------------------------------------------------------------
class Variant(Model):
    item: Id
    duration: float | None = Field(None, ge=0)
    depends_on: list[Id] = Field([], description="extra prerequisites when this variant is chosen")
    materials: list[Id] = []


class Step(Model):
    id: Id = ""
    item: Id
    name: str | None = None
    depends_on: list[Id] = []
    duration: float | None = Field(None, ge=0, description="overrides the item's promised limit")
    counted: bool | None = None
    when: Condition | None = None
    variants: dict[Id, Variant] = {}
    members: list[Id] = []
    department: Id | None = Field(None, description="the body that handles it here (e.g. county level)")
    materials: list[Id] = Field([], description="materials this step asks beyond the item's")
    omits: list[Id] = Field([], description="materials of the item this step does not ask (e.g. before approval)")
    provenance: dict[Literal["duration", "members", "department"], list[Id]] = {}
    note: str | None = None


class Flowchart(Model):
    id: Id = ""
    name: Text
    name_en: Text
    category: Id | None = None
    source: list[Id] = Field(min_length=1)
    description: str | None = None
    description_en: str | None = None
    steps: dict[Id, Step] = {}


# --- invariants ----------------------------------------------------------------------------------
class Invariant(Model):
    id: Id = ""
    description: Text
    categories: list[Id] = Field([], description="empty = every flowchart")
    if_present: list[Id] = Field([], description="applies only to flowcharts with one of these items")
    precedes: dict[Literal["first", "then"], list[Id]] | None = None
    requires_any: list[Id] = []
    forbids: list[Id] = []
    forbids_departments: list[Id] = Field([], description="no step may be handled by these departments")
    departments: dict[Id, list[Id]] = Field({}, description="item -> the departments allowed to handle it")
    issued_upstream: bool = Field(
        False, description="a material a step asks that the flowchart issues must be issued by an ancestor step"
    )
    merged_absent: bool = Field(False, description="no step uses an item merged into another (merged_into)")
    provenance: bool = Field(
        False, description="every item limit, member list and fee, and every step override, carries a source tag"
    )
    source: list[Id] = []
