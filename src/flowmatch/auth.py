"""Staff accounts, logins, sessions, API tokens, rate limits and the authorisation rules (issue 15).

Everything lives in the case database (tables in :mod:`flowmatch.tracking.schema`), so several
server processes agree on sessions, failed-login counts and rate limits; nothing is kept in memory.

* Passwords are hashed with argon2id (``argon2-cffi``); never stored, never logged.
* A session id is 256 random bits in the cookie; only its sha256 is stored.  Logging in always
  creates a new session id and deletes the old one (no fixation).  Each session has its own CSRF
  token, compared in constant time.
* After :data:`MAX_FAILURES` wrong passwords in a row an account is locked for :data:`LOCK_FOR`;
  wrong name, wrong password, disabled and locked accounts all give the same :class:`LoginFailed`.
* API tokens are 256 random bits shown once; only their sha256 is stored.
* Logins, failures, lockouts, logouts, refusals (403), user and token changes go into the audit trail.

Time is passed in (``at``); the web layer and the CLI read the clock.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from .errors import FlowmatchError, InputError
from .tracking import audit
from .tracking.schema import ApiToken, RateHit, Session, User

__all__ = [
    "LOCK_FOR",
    "MAX_FAILURES",
    "ROLES",
    "SESSION_FOR",
    "Accounts",
    "Forbidden",
    "LoginFailed",
    "StaffUser",
    "can_act_on_task",
    "can_audit",
    "can_open_case",
    "can_see_board",
    "can_see_queue",
    "can_view_case",
]

ROLES: Final = ("window", "department", "supervisor", "auditor")
ROLE_LABELS: Final = {"window": "窗口受理", "department": "部门审批", "supervisor": "督办", "auditor": "审计"}
MAX_FAILURES: Final = 5
LOCK_FOR: Final = dt.timedelta(minutes=15)
SESSION_FOR: Final = dt.timedelta(hours=8)
MIN_PASSWORD: Final = 10


class LoginFailed(FlowmatchError):
    """Wrong name or password, disabled or locked account: one message for all of them."""

    def __init__(self) -> None:
        super().__init__("用户名或密码错误，或账户已锁定 / wrong name or password, or the account is locked")


class Forbidden(FlowmatchError):
    """The user's role does not allow this (the web answers 403 and the refusal is audited)."""


@dataclass(frozen=True)
class StaffUser:
    id: int
    name: str
    role: str
    department: str | None
    disabled: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "role": self.role, "department": self.department, "disabled": self.disabled}


# --- authorisation: one function per rule -----------------------------------------------------------
def can_open_case(user: StaffUser) -> bool:
    """受理: window clerks open cases and print the notice and the acceptance slip."""
    return user.role == "window"


def can_view_case(user: StaffUser, departments: Sequence[str]) -> bool:
    """A case page: window clerks, supervisors and auditors see every case; a department clerk only a
    case with a task of their department (``departments``: the case's task departments)."""
    if user.role in ("window", "supervisor", "auditor"):
        return True
    return user.role == "department" and user.department in departments


def can_act_on_task(user: StaffUser, department: str, owner: str) -> bool:
    """Recording an event on a task: a department's task only by a clerk of that department; the
    applicant's own steps (tendering, publicity, intermediaries) by the window clerk, where the
    applicant hands in the result.  Supervisors urge and auditors read: neither records."""
    if owner == "applicant":
        return user.role == "window"
    return user.role == "department" and user.department == department


def can_see_queue(user: StaffUser, department: str) -> bool:
    """A department's queue: its own clerks, and supervisors (every queue)."""
    return user.role == "supervisor" or (user.role == "department" and user.department == department)


def can_see_board(user: StaffUser) -> bool:
    """The panoramic board with warnings and the statistics: supervisors and auditors."""
    return user.role in ("supervisor", "auditor")


def can_audit(user: StaffUser) -> bool:
    """The audit log and ``verify``: auditors and supervisors (read-only)."""
    return user.role in ("auditor", "supervisor")


# --- the accounts ---------------------------------------------------------------------------------
def _sha(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _hasher() -> Any:
    from argon2 import PasswordHasher

    return PasswordHasher()


_DUMMY: list[str] = []


def _dummy_hash() -> str:
    """A hash to verify against when the name is unknown, so both cases take the same time."""
    if not _DUMMY:
        _DUMMY.append(_hasher().hash(secrets.token_hex(16)))
    return _DUMMY[0]


def _user(row: Any) -> StaffUser:
    return StaffUser(row.id, row.name, row.role, row.department, bool(row.disabled))


@dataclass
class Accounts:
    """Users, sessions, tokens and rate limits in the case database (``engine``)."""

    engine: Engine
    departments: Sequence[str] = ()
    """Allowed department ids (the rule-set's); empty: not checked."""

    # -- users --------------------------------------------------------------------------------------
    def add_user(
        self, name: str, *, role: str, password: str, at: dt.datetime, by: str, department: str | None = None
    ) -> StaffUser:
        name = name.strip()
        if not name or len(name) > 100:
            raise InputError("a user name is 1 to 100 characters")
        if role not in ROLES:
            raise InputError(f"unknown role {role!r}", allowed=ROLES)
        if role == "department":
            if not department:
                raise InputError("a department clerk needs --department")
            if self.departments and department not in self.departments:
                raise InputError(f"unknown department {department!r}", allowed=list(self.departments))
        elif department:
            raise InputError(f"--department is only for department clerks, not {role!r}")
        if len(password) < MIN_PASSWORD:
            raise InputError(f"the password is shorter than {MIN_PASSWORD} characters")
        hashed = _hasher().hash(password)
        with self.engine.begin() as conn:
            if conn.execute(select(User.id).where(User.name == name)).first() is not None:
                raise InputError(f"user {name!r} already exists")
            uid = conn.execute(
                insert(User)
                .values(
                    name=name,
                    password_hash=hashed,
                    role=role,
                    department=department,
                    disabled=False,
                    failed_logins=0,
                    locked_until=None,
                    created_at=at,
                )
                .returning(User.id)
            ).scalar_one()
            note = f"{role}" + (f" {department}" if department else "")
            audit.append(conn, [audit.NewEvent(at, by, "admin", "user_add", note=f"{name}: {note}")])
        return StaffUser(uid, name, role, department)

    def users(self) -> list[StaffUser]:
        with self.engine.connect() as conn:
            return [_user(r) for r in conn.execute(select(*User.__table__.c).order_by(User.name))]

    def disable_user(self, name: str, *, at: dt.datetime, by: str) -> StaffUser:
        with self.engine.begin() as conn:
            row = conn.execute(select(*User.__table__.c).where(User.name == name)).one_or_none()
            if row is None:
                raise InputError(f"no user named {name!r}")
            conn.execute(update(User).where(User.id == row.id).values(disabled=True))
            conn.execute(delete(Session).where(Session.user_id == row.id))
            conn.execute(update(ApiToken).where(ApiToken.user_id == row.id).values(revoked=True))
            audit.append(conn, [audit.NewEvent(at, by, "admin", "user_disable", note=name)])
        return StaffUser(row.id, row.name, row.role, row.department, True)

    # -- API tokens ---------------------------------------------------------------------------------
    def create_token(self, name: str, *, at: dt.datetime, by: str) -> str:
        """A new API token for user ``name``: returned once, only its hash is stored."""
        token = "fmt_" + secrets.token_urlsafe(32)
        with self.engine.begin() as conn:
            row = conn.execute(select(User.id, User.disabled).where(User.name == name)).one_or_none()
            if row is None or row.disabled:
                raise InputError(f"no active user named {name!r}")
            conn.execute(insert(ApiToken).values(user_id=row.id, token_hash=_sha(token), created_at=at, revoked=False))
            audit.append(conn, [audit.NewEvent(at, by, "admin", "token_create", note=name)])
        return token

    def user_for_token(self, token: str) -> StaffUser | None:
        if not token.startswith("fmt_") or len(token) > 100:
            return None
        query = (
            select(*User.__table__.c)
            .join(ApiToken, ApiToken.user_id == User.id)
            .where(ApiToken.token_hash == _sha(token), ApiToken.revoked.is_(False), User.disabled.is_(False))
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).one_or_none()
        return _user(row) if row is not None else None

    # -- sessions -----------------------------------------------------------------------------------
    def new_session(self, at: dt.datetime, user_id: int | None = None) -> tuple[str, str]:
        """A new session ``(id, csrf token)``; anonymous unless ``user_id``."""
        sid, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        with self.engine.begin() as conn:
            conn.execute(delete(Session).where(Session.expires_at < at))
            conn.execute(
                insert(Session).values(
                    id_hash=_sha(sid), user_id=user_id, csrf=csrf, created_at=at, expires_at=at + SESSION_FOR
                )
            )
        return sid, csrf

    def session(self, sid: str, at: dt.datetime) -> tuple[StaffUser | None, str] | None:
        """``(user or None, csrf token)`` of a live session, ``None`` if unknown or expired."""
        if not sid or len(sid) > 100:
            return None
        query = (
            select(
                Session.csrf,
                Session.expires_at,
                Session.user_id,
                User.id,
                User.name,
                User.role,
                User.department,
                User.disabled,
            )
            .outerjoin(User, User.id == Session.user_id)
            .where(Session.id_hash == _sha(sid))
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).one_or_none()
        if row is None or row.expires_at < at:
            return None
        if row.user_id is None:
            return None, row.csrf
        if row.disabled:
            return None
        return StaffUser(row.id, row.name, row.role, row.department), row.csrf

    def end_session(self, sid: str, *, at: dt.datetime, user: StaffUser | None = None) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(Session).where(Session.id_hash == _sha(sid)))
            if user is not None:
                audit.append(conn, [audit.NewEvent(at, user.name, user.role, "logout")])

    def login(
        self, name: str, password: str, *, at: dt.datetime, client: str, old_sid: str | None = None
    ) -> tuple[StaffUser, str, str]:
        """Check the password; on success a *new* session ``(user, id, csrf)`` replaces ``old_sid``.

        Every outcome is audited; wrong name, wrong password, disabled and locked all raise the same
        :class:`LoginFailed` after the same argon2 work."""
        from argon2.exceptions import InvalidHashError, VerificationError

        with self.engine.connect() as conn:
            row = conn.execute(select(*User.__table__.c).where(User.name == name[:100])).one_or_none()
        stored = row.password_hash if row is not None else _dummy_hash()
        try:
            ok = bool(_hasher().verify(stored, password))
        except (VerificationError, InvalidHashError):
            ok = False
        who = name[:100]
        if row is None:
            with self.engine.begin() as conn:
                audit.append(conn, [audit.NewEvent(at, who, "unknown", "login_failed", note=f"unknown user; {client}")])
            raise LoginFailed()
        with self.engine.begin() as conn:
            # re-read under the write lock: several workers may be counting failures at once
            current = conn.execute(
                select(User.failed_logins, User.locked_until, User.disabled).where(User.id == row.id).with_for_update()
            ).one()
            locked = current.locked_until is not None and current.locked_until > at
            if current.disabled or locked or not ok:
                values: dict[str, Any] = {}
                events = []
                reason = "disabled" if current.disabled else "locked" if locked else "wrong password"
                events.append(audit.NewEvent(at, who, row.role, "login_failed", note=f"{reason}; {client}"))
                if not ok and not current.disabled and not locked:
                    failures = current.failed_logins + 1
                    values["failed_logins"] = failures
                    if failures >= MAX_FAILURES:
                        values.update(failed_logins=0, locked_until=at + LOCK_FOR)
                        events.append(
                            audit.NewEvent(
                                at, "flowmatch", "system", "account_locked", note=f"{who}: {MAX_FAILURES} failed logins"
                            )
                        )
                    conn.execute(update(User).where(User.id == row.id).values(**values))
                audit.append(conn, events)
                failed = True
            else:
                failed = False
                conn.execute(update(User).where(User.id == row.id).values(failed_logins=0, locked_until=None))
                if old_sid:
                    conn.execute(delete(Session).where(Session.id_hash == _sha(old_sid)))
                audit.append(conn, [audit.NewEvent(at, who, row.role, "login", note=client)])
        if failed:
            raise LoginFailed()
        sid, csrf = self.new_session(at, row.id)
        return _user(row), sid, csrf

    def refused(
        self, user: StaffUser, what: str, *, at: dt.datetime, case_number: str | None = None, step: str | None = None
    ) -> None:
        """Audit a refusal (the web answers 403)."""
        with self.engine.begin() as conn:
            audit.append(
                conn, [audit.NewEvent(at, user.name, user.role, "forbidden", case_number, step, note=what[:500])]
            )

    # -- rate limits --------------------------------------------------------------------------------
    def hit(self, key: str, *, limit: int, window: int, at: dt.datetime) -> bool:
        """Count one request of ``key`` in the current ``window`` (seconds); ``False`` past ``limit``."""
        slot = int(at.replace(tzinfo=dt.timezone.utc).timestamp()) // window
        ins = (postgresql.insert if self.engine.dialect.name == "postgresql" else sqlite.insert)(RateHit)
        stmt = ins.values(key=key[:200], window=slot, count=1)
        stmt = stmt.on_conflict_do_update(index_elements=["key", "window"], set_={"count": RateHit.count + 1})
        with self.engine.begin() as conn:
            count = conn.execute(stmt.returning(RateHit.count)).scalar_one()
            if count == 1:  # the first hit of a window clears the old ones of this key
                conn.execute(delete(RateHit).where(RateHit.key == key[:200], RateHit.window < slot))
        return int(count) <= limit


def constant_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
