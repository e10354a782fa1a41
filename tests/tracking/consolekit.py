"""Helpers for the console, /track and API tests: users of every role, a settable clock, logins."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from flowmatch.auth import Accounts
from flowmatch.tracking import CaseStore, OpenedCase

from .conftest import CREDIT, F10

PASSWORD = "correct horse battery"
USERS = {
    "win": ("window", None),
    "fgw1": ("department", "fgw"),
    "ylj1": ("department", "ylj"),  # a department with no task in an F10 case
    "sup": ("supervisor", None),
    "aud": ("auditor", None),
}
ROLE_USERS = tuple(USERS)
START = dt.datetime(2026, 3, 2, 9, 0)


@dataclass
class Clock:
    now: dt.datetime = START

    def __call__(self) -> dt.datetime:
        return self.now


@dataclass
class Centre:
    store: CaseStore
    accounts: Accounts
    clock: Clock
    app: Any
    tokens: dict[str, str] = field(default_factory=dict)


def centre(store: CaseStore, *, tokens: bool = False) -> Centre:
    from flowmatch.web import create_app

    accounts = Accounts(store.engine, tuple(store.ruleset.departments))
    for name, (role, dept) in USERS.items():
        accounts.add_user(name, role=role, department=dept, password=PASSWORD, at=START, by="test")
    clock = Clock()
    app = create_app(store.ruleset, store=store, clock=clock)
    c = Centre(store, accounts, clock, app)
    if tokens:
        c.tokens = {name: accounts.create_token(name, at=START, by="test") for name in USERS}
    return c


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field in the page"
    return found.group(1)


def login(client: Any, name: str, password: str = PASSWORD) -> str:
    """Log ``client`` in as ``name``; returns the session's CSRF token."""
    page = client.get("/console/login")
    r = client.post(
        "/console/login", data={"csrf": csrf_of(page.text), "name": name, "password": password}, follow_redirects=False
    )
    assert r.status_code == 303, r.text
    return csrf_of(
        client.get(
            "/console/audit"
            if USERS[name][0] in ("auditor", "supervisor")
            else "/console/queue"
            if USERS[name][0] == "department"
            else "/console/open"
        ).text
    )


def open_f10(c: Centre) -> OpenedCase:
    """An F10 case whose first applicant step is done, so the DRC (fgw) project task is ready."""
    opened = c.store.open_case(
        F10, applicant="某某置业有限公司", credit_code=CREDIT, at=START, by="win", project_name="滨江花园"
    )
    for event in ("accept", "handle", "review", "approve", "complete"):
        c.store.record(opened.number, "land_transfer_contract", event, by="win", at=START, role="window")
    return opened


def forbidden_events(c: Centre) -> int:
    from sqlalchemy import func, select

    from flowmatch.tracking.schema import Event

    with c.store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(Event).where(Event.what == "forbidden")).scalar_one())
