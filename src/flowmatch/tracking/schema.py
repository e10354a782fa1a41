"""The case-tracking tables — the one module that owns them (SQLAlchemy 2, typed).

Every change to these classes is an Alembic migration in ``migrations/versions`` (a test compares
the two).  Plain columns you can read with ``sqlite3`` or ``psql``:

* ``cases`` — one accepted application, with the rule-set id and content digest pinned at acceptance;
* ``tasks`` — one per pre-construction step of the case's resolved flowchart, copied from the rules
  at acceptance (so editing the rules never changes an open case), with state, clock and due date;
* ``warnings`` — the warning ladder; ``UNIQUE (task_id, level)`` makes each warning fire once;
* ``events`` — the append-only, hash-chained audit log (database triggers refuse UPDATE and DELETE);
* ``chain_head`` — one row: the last event's number and hash (the lock that orders appends);
* ``counters`` — per-year 受理编号 counters;
* ``certificates`` — the certificate database (证照数据库, issue 16): one row per certificate an
  applicant (统一社会信用代码) holds, from a done step of a case or an import; ``UNIQUE (material,
  number)`` makes re-import idempotent.
* ``users``, ``api_tokens``, ``sessions``, ``rate_hits`` — staff accounts (argon2 hashes), hashed API
  tokens, server-side login sessions (only a hash of the cookie's id is stored) and the per-client
  request counters of the rate limits (in the database, so every worker agrees).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

HEAD_REVISION = "0003_console"
"""The Alembic revision these classes describe (checked before running Alembic at all)."""


class Base(DeclarativeBase):
    pass


class Case(Base):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    """受理编号, e.g. ``JS2026-000042``."""
    applicant: Mapped[str] = mapped_column(String(200))
    credit_code: Mapped[str] = mapped_column(String(18))
    project_name: Mapped[str | None] = mapped_column(String(200))
    profile: Mapped[dict[str, Any]] = mapped_column(JSON)
    situation: Mapped[str] = mapped_column(String(64))
    flowchart: Mapped[str] = mapped_column(String(64))
    ruleset_id: Mapped[str] = mapped_column(String(200))
    ruleset_digest: Mapped[str] = mapped_column(String(64))
    commitment: Mapped[bool] = mapped_column(Boolean)
    query_salt: Mapped[str] = mapped_column(String(32))
    query_hash: Mapped[str] = mapped_column(String(64))
    """sha256(salt + query code): the code itself is shown once, at acceptance, and never stored."""
    warn_before: Mapped[float] = mapped_column(Float)
    urge_after: Mapped[float] = mapped_column(Float)
    supervisor: Mapped[str] = mapped_column(String(200))
    promised_days: Mapped[float] = mapped_column(Float)
    """Promised elapsed working days of the pinned plan (counted and not-counted steps)."""
    promised_counted_days: Mapped[float] = mapped_column(Float)
    state: Mapped[str] = mapped_column(String(16), index=True)
    """open, done (every task done) or rejected (a task ended 不予许可)."""
    opened_at: Mapped[dt.datetime] = mapped_column(DateTime)
    opened_on: Mapped[dt.date] = mapped_column(Date)
    opened_by: Mapped[str] = mapped_column(String(100))
    closed_on: Mapped[dt.date | None] = mapped_column(Date)


class Task(Base):
    __tablename__ = "tasks"
    __table_args__ = (
        UniqueConstraint("case_id", "step"),
        Index("ix_tasks_state_due", "state", "due_on"),
        Index("ix_tasks_department_state", "department", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    step: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer)
    """Topological order within the case."""
    name: Mapped[str] = mapped_column(String(200))
    item: Mapped[str] = mapped_column(String(64))
    department: Mapped[str] = mapped_column(String(64))
    """Department id (the applicant's own steps keep the item's department for reference)."""
    members: Mapped[list[str]] = mapped_column(JSON)
    owner: Mapped[str] = mapped_column(String(16))
    """``department`` or ``applicant`` (not-counted steps: tendering, publicity, intermediaries)."""
    counted: Mapped[bool] = mapped_column(Boolean)
    duration: Mapped[float] = mapped_column(Float)
    depends_on: Mapped[list[str]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16))
    suspended_from: Mapped[str | None] = mapped_column(String(16))
    started_on: Mapped[dt.date | None] = mapped_column(Date)
    """The day the task became ready (day 0 of its clock)."""
    due_on: Mapped[dt.date | None] = mapped_column(Date)
    """Promised limit counted from ``started_on``, shifted by suspended working days; only counted tasks."""
    suspended_on: Mapped[dt.date | None] = mapped_column(Date)
    suspended_days: Mapped[int] = mapped_column(Integer, default=0)
    finished_on: Mapped[dt.date | None] = mapped_column(Date)
    updated_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class TaskWarning(Base):
    __tablename__ = "warnings"
    __table_args__ = (UniqueConstraint("task_id", "level", name="uq_warnings_task_level"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    level: Mapped[str] = mapped_column(String(16))
    """``warning`` (预警), ``overdue`` (超期) or ``urge`` (催办)."""
    raised_on: Mapped[dt.date] = mapped_column(Date)
    due_on: Mapped[dt.date] = mapped_column(Date)
    notify: Mapped[list[str]] = mapped_column(JSON)
    """Who is told: the department, and for 催办 the supervisor too."""


class Event(Base):
    __tablename__ = "events"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    """Position in the chain: 1, 2, 3, ... with no gaps."""
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    actor: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(32))
    case_number: Mapped[str | None] = mapped_column(String(32), index=True)
    step: Mapped[str | None] = mapped_column(String(64))
    what: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class ChainHead(Base):
    __tablename__ = "chain_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


class Counter(Base):
    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(Integer)


class Certificate(Base):
    __tablename__ = "certificates"
    __table_args__ = (UniqueConstraint("material", "number", name="uq_certificates_material_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    credit_code: Mapped[str] = mapped_column(String(18), index=True)
    """The holder's 统一社会信用代码 (checked by ``credit.validate_credit_code``)."""
    material: Mapped[str] = mapped_column(String(64))
    """A material id of the rule-set's ``certificates.yaml``."""
    number: Mapped[str] = mapped_column(String(100))
    issuer: Mapped[str] = mapped_column(String(64))
    issued_on: Mapped[dt.date] = mapped_column(Date)
    expires_on: Mapped[dt.date | None] = mapped_column(Date)
    """Last day valid; empty: valid until revoked."""
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    revoked_reason: Mapped[str | None] = mapped_column(Text)
    revoked_on: Mapped[dt.date | None] = mapped_column(Date)
    case_number: Mapped[str | None] = mapped_column(String(32))
    """The case whose done step produced it (empty for an import)."""
    step: Mapped[str | None] = mapped_column(String(64))
    origin: Mapped[str] = mapped_column(String(16))
    """``case`` or ``import``."""
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    """argon2id (argon2-cffi); never the password."""
    role: Mapped[str] = mapped_column(String(16))
    """``window``, ``department``, ``supervisor`` or ``auditor``."""
    department: Mapped[str | None] = mapped_column(String(64))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    """sha256 of the token (a 256-bit random secret, so no salt or slow hash is needed)."""
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class Session(Base):
    __tablename__ = "sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    """sha256 of the session id in the cookie."""
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    """``None`` before login (the anonymous session that carries the login form's CSRF token)."""
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)


class RateHit(Base):
    __tablename__ = "rate_hits"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    """What is limited and for whom, e.g. ``track:203.0.113.9``."""
    window: Mapped[int] = mapped_column(Integer, primary_key=True)
    """The window's number (seconds since the epoch // window length)."""
    count: Mapped[int] = mapped_column(Integer)
