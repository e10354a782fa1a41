"""The certificate database (证照数据库, issue 16): what each applicant already holds.

Seed 003: "审批部门只要能从数据库中查阅、调出的审批信息，企业就不必再作为申报要件提交".  The rule-set's
``certificates.yaml`` says which departments' registers are connected and which materials are
certificates (issuer, validity); this module keeps the certificates themselves, keyed by the
holder's 统一社会信用代码:

* :func:`issue_for_step` — a done step's ``produces`` that are certificates of a connected register
  go in, in the same transaction as the step's event, each with its own audit event;
* :func:`import_csv` — certificates issued before (``credit_code, material, number, issued,
  expires``); bad rows are reported with their line and reason, the good ones imported, and a
  re-import changes nothing (``UNIQUE (material, number)``);
* :func:`lookup` — the applicant's certificates as :class:`~flowmatch.materials.OnFile` entries for
  the one-time notice: a valid one spares the material, an expired or revoked one says why it is
  asked again.

Time is an argument throughout (``as_of``, ``at``); nothing here reads the clock.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from ..certdb import database_of, expiry, held_kinds, issuer_of
from ..errors import InputError, TrackingError
from ..materials import OnFile
from ..ruleset import RuleSet
from . import audit
from .credit import validate_credit_code
from .schema import Certificate as CertificateRow

COLUMNS = ("credit_code", "material", "number", "issued", "expires")
MAX_IMPORT_BYTES = 20 * 1024 * 1024
NUMBER_LENGTH = 100


@dataclass(frozen=True)
class Certificate:
    """One certificate on file."""

    credit_code: str
    material: str
    name: str
    number: str
    issuer: str
    issued_on: dt.date
    expires_on: dt.date | None
    revoked: bool
    revoked_reason: str | None
    revoked_on: dt.date | None
    case_number: str | None
    step: str | None
    origin: str

    def status(self, as_of: dt.date) -> str:
        """``valid``, ``expired`` (past its last valid day) or ``revoked``."""
        if self.revoked:
            return "revoked"
        if self.expires_on is not None and as_of > self.expires_on:
            return "expired"
        return "valid"

    def why_not_usable(self, as_of: dt.date) -> str | None:
        """The notice's reason for asking the material again, or ``None`` when the certificate serves."""
        state = self.status(as_of)
        if state == "revoked":
            return f"证照库中的证照（编号 {self.number}）已注销（{self.revoked_reason}），请重新提交"
        if state == "expired":
            assert self.expires_on is not None
            return f"证照库中的证照（编号 {self.number}）已于{self.expires_on.isoformat()}过期，请重新提交"
        return None

    def to_dict(self, as_of: dt.date | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "credit_code": self.credit_code,
            "material": self.material,
            "name": self.name,
            "number": self.number,
            "issuer": self.issuer,
            "issued": self.issued_on.isoformat(),
            "expires": self.expires_on.isoformat() if self.expires_on else None,
            "revoked": self.revoked,
            "revoked_reason": self.revoked_reason,
            "revoked_on": self.revoked_on.isoformat() if self.revoked_on else None,
            "case": self.case_number,
            "step": self.step,
            "origin": self.origin,
        }
        if as_of is not None:
            out["status"] = self.status(as_of)
        return out


@dataclass(frozen=True)
class ImportProblem:
    line: int
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"line": self.line, "reason": self.reason}


@dataclass(frozen=True)
class CertificateImport:
    """What an import did: rows imported, rows already on file (unchanged), rows refused (with line)."""

    imported: int
    unchanged: int
    problems: tuple[ImportProblem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "imported": self.imported,
            "unchanged": self.unchanged,
            "problems": [p.to_dict() for p in self.problems],
        }


def _view(rs: RuleSet, row: Any) -> Certificate:
    mat = rs.materials.get(row.material)
    return Certificate(
        row.credit_code,
        row.material,
        mat.name if mat is not None else row.material,
        row.number,
        row.issuer,
        row.issued_on,
        row.expires_on,
        bool(row.revoked),
        row.revoked_reason,
        row.revoked_on,
        row.case_number,
        row.step,
        row.origin,
    )


_TABLE = CertificateRow.__table__


def _insert(conn: Connection) -> Any:
    from sqlalchemy.dialects import postgresql, sqlite

    return (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(CertificateRow)


# --- filled by a done step ------------------------------------------------------------------------
def issue_for_step(
    conn: Connection,
    rs: RuleSet,
    *,
    credit_code: str,
    case_number: str,
    step: str,
    item: str,
    day: dt.date,
    at: dt.datetime,
    by: str,
    numbers: Mapping[str, str] | None = None,
) -> list[audit.NewEvent]:
    """Store the certificates a done step produced (its item's ``produces`` held by the database).

    Runs in the caller's transaction; returns the audit events to append with the step's own.
    ``numbers`` gives a certificate number per material; the default is ``CASE/STEP``."""
    found = rs.items.get(item)
    if found is None:
        return []
    kinds = held_kinds(rs)
    events = []
    for mid in found.produces:
        kind = kinds.get(mid)
        if kind is None:
            continue
        number = (numbers or {}).get(mid) or f"{case_number}/{step}"
        expires = expiry(kind, day)
        stmt = (
            _insert(conn)
            .values(
                credit_code=credit_code,
                material=mid,
                number=number[:NUMBER_LENGTH],
                issuer=issuer_of(rs, kind),
                issued_on=day,
                expires_on=expires,
                revoked=False,
                revoked_reason=None,
                revoked_on=None,
                case_number=case_number,
                step=step,
                origin="case",
                recorded_at=at,
            )
            .on_conflict_do_nothing(index_elements=["material", "number"])
        )
        if conn.execute(stmt).rowcount:
            until = f"，有效期至{expires.isoformat()}" if expires else ""
            events.append(
                audit.NewEvent(
                    at,
                    by,
                    "system",
                    "certificate",
                    case_number,
                    step,
                    None,
                    None,
                    f"证照入库：{rs.materials[mid].name} {number}{until}",
                )
            )
    return events


# --- import ---------------------------------------------------------------------------------------
def _parse_date(text: str, what: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{what} {text!r} is not a date; allowed: YYYY-MM-DD") from None


def _read_rows(source: str | Path) -> list[tuple[int, dict[str, str]]]:
    from ..fileio import read_limited

    try:
        data = read_limited(source, MAX_IMPORT_BYTES)
    except OSError as exc:
        raise InputError(f"cannot read {source}: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{source} is not UTF-8 text") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in COLUMNS if c != "expires" and c not in header]
    if missing:
        raise InputError(
            f"{source}: missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}", allowed=COLUMNS
        )
    reader.fieldnames = header
    rows = []
    for row in reader:
        values = {k: (v or "").strip() for k, v in row.items() if k is not None}
        if not any(values.values()):
            continue
        rows.append((reader.line_num, values))
    return rows


def import_csv(engine: Engine, rs: RuleSet, source: str | Path, *, at: dt.datetime, by: str) -> CertificateImport:
    """Import certificates issued before; see the module docstring for the rules."""
    kinds = held_kinds(rs)
    db = database_of(rs)
    rows = _read_rows(source)
    problems: list[ImportProblem] = []
    imported = unchanged = 0
    with engine.begin() as conn:
        events = []
        for line, row in rows:
            try:
                code = validate_credit_code(row.get("credit_code", ""))
            except InputError as exc:
                problems.append(ImportProblem(line, str(exc)))
                continue
            try:
                mid = row.get("material", "")
                if mid not in rs.materials:
                    raise ValueError(f"material {mid!r} is not a material id of the rule-set")
                if mid not in db.certificates:
                    raise ValueError(f"material {mid!r} is not a certificate the database holds")
                kind = kinds.get(mid)
                if kind is None:
                    issuer = issuer_of(rs, db.certificates[mid])
                    raise ValueError(f"material {mid!r} is issued by {issuer}, whose register is not connected")
                number = row.get("number", "")
                if not number or len(number) > NUMBER_LENGTH:
                    raise ValueError(f"number is {'empty' if not number else 'longer than 100 characters'}")
                issued = _parse_date(row.get("issued", ""), "issued")
                expires = _parse_date(row["expires"], "expires") if row.get("expires") else expiry(kind, issued)
                if expires is not None and expires < issued:
                    raise ValueError(f"expires {expires.isoformat()} is before issued {issued.isoformat()}")
            except ValueError as exc:
                problems.append(ImportProblem(line, str(exc)))
                continue
            existing = conn.execute(
                select(*_TABLE.c).where(_TABLE.c.material == mid, _TABLE.c.number == number)
            ).one_or_none()
            if existing is not None:
                if (existing.credit_code, existing.issued_on, existing.expires_on) == (code, issued, expires):
                    unchanged += 1
                else:
                    problems.append(
                        ImportProblem(
                            line,
                            f"certificate {number} ({mid}) is already on file with other data "
                            f"(holder {existing.credit_code}, issued {existing.issued_on.isoformat()})",
                        )
                    )
                continue
            conn.execute(
                insert(CertificateRow),
                {
                    "credit_code": code,
                    "material": mid,
                    "number": number,
                    "issuer": issuer_of(rs, kind),
                    "issued_on": issued,
                    "expires_on": expires,
                    "revoked": False,
                    "revoked_reason": None,
                    "revoked_on": None,
                    "case_number": None,
                    "step": None,
                    "origin": "import",
                    "recorded_at": at,
                },
            )
            imported += 1
            events.append(
                audit.NewEvent(
                    at,
                    by,
                    "window",
                    "certificate_import",
                    None,
                    None,
                    None,
                    None,
                    f"证照导入：{code} {rs.materials[mid].name} {number}",
                )
            )
        audit.append(conn, events)
    return CertificateImport(imported, unchanged, tuple(problems))


# --- list, revoke, look up ------------------------------------------------------------------------
def list_for(engine: Engine, rs: RuleSet, credit_code: str) -> list[Certificate]:
    """Every certificate the holder has on file, oldest first (revoked and expired included)."""
    code = validate_credit_code(credit_code)
    query = select(*_TABLE.c).where(_TABLE.c.credit_code == code).order_by(_TABLE.c.issued_on, _TABLE.c.id)
    with engine.connect() as conn:
        return [_view(rs, row) for row in conn.execute(query)]


def revoke(
    engine: Engine,
    rs: RuleSet,
    number: str,
    *,
    reason: str,
    by: str,
    at: dt.datetime,
    material: str | None = None,
) -> Certificate:
    """Mark a certificate revoked (注销) with the reason; the holder is asked for it again."""
    if not reason.strip():
        raise InputError("the reason for revoking is empty")
    if not by.strip():
        raise InputError("who revokes the certificate (--by) is empty")
    query = select(*_TABLE.c).where(_TABLE.c.number == number.strip())
    if material is not None:
        query = query.where(_TABLE.c.material == material)
    with engine.begin() as conn:
        rows = list(conn.execute(query.with_for_update()))
        if not rows:
            raise InputError(f"no certificate numbered {number!r} on file")
        if len(rows) > 1:
            raise InputError(
                f"{len(rows)} certificates are numbered {number!r}; say which material",
                allowed=sorted(r.material for r in rows),
            )
        row = rows[0]
        if row.revoked:
            raise TrackingError(f"certificate {number} is already revoked ({row.revoked_reason})")
        conn.execute(
            update(CertificateRow)
            .where(CertificateRow.id == row.id)
            .values(revoked=True, revoked_reason=reason.strip(), revoked_on=at.date())
        )
        audit.append(
            conn,
            [
                audit.NewEvent(
                    at,
                    by,
                    "department",
                    "certificate_revoke",
                    row.case_number,
                    row.step,
                    None,
                    None,
                    f"证照注销：{row.credit_code} {row.material} {row.number}：{reason.strip()}",
                )
            ],
        )
        found = conn.execute(select(*_TABLE.c).where(_TABLE.c.id == row.id)).one()
    return _view(rs, found)


def lookup(engine: Engine, rs: RuleSet, credit_code: str, *, as_of: dt.date) -> tuple[OnFile, ...]:
    """The holder's certificates as on-file entries for the notice, per material the database holds.

    A material with a valid certificate is spared (the newest valid one is named); a material whose
    certificates are all expired or revoked is asked again, the newest one saying why.  A rule-set
    without a certificate database gives nothing (it behaves as before)."""
    code = validate_credit_code(credit_code)
    kinds = held_kinds(rs)
    if not kinds:
        return ()
    by_material: dict[str, list[Certificate]] = {}
    for cert in list_for(engine, rs, code):
        if cert.material in kinds:
            by_material.setdefault(cert.material, []).append(cert)
    out = []
    for mid, certs in by_material.items():
        newest_first = sorted(certs, key=lambda c: c.issued_on, reverse=True)
        usable = next((c for c in newest_first if c.status(as_of) == "valid"), None)
        if usable is not None:
            out.append(OnFile(mid, usable.number, usable.issuer))
        else:
            last = newest_first[0]
            out.append(OnFile(mid, last.number, last.issuer, last.why_not_usable(as_of)))
    return tuple(out)


def certificates_on_file(
    credit_code: str,
    *,
    as_of: dt.date | str,
    db: str | None = None,
    ruleset: RuleSet | None = None,
) -> tuple[OnFile, ...]:
    """Look the applicant up in the certificate database at ``db`` (default: the case store's URL).

    Pass the result as ``on_file`` to :func:`flowmatch.render_guide`: materials with a valid
    certificate from a connected department are not asked (the notice names the certificate
    number); expired or revoked ones are asked again and the notice says why.  An invalid credit
    code is an :class:`InputError` naming the check digit it should have."""
    from .cases import _as_date, open_store

    code = validate_credit_code(credit_code)
    store = open_store(db, ruleset=ruleset)
    try:
        return store.on_file(code, as_of=_as_date(as_of))
    finally:
        store.engine.dispose()
