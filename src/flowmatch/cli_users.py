"""``flowmatch users add|list|disable`` and ``flowmatch tokens create``: the staff accounts of the console.

The password is asked at a prompt (twice, hidden) or read from ``$FLOWMATCH_PASSWORD`` for scripts;
it is never a command-line argument (those show up in ``ps`` and shell history).
"""

from __future__ import annotations

import os
from typing import Any

import click

from .cli import _emit
from .cli_case import _now, store_options
from .errors import InputError


def _out(as_json: bool, data: Any, text: Any) -> None:
    if as_json:
        _emit(data)
    else:
        text()


def _accounts(store: Any) -> Any:
    from .auth import Accounts

    st = store()
    return Accounts(st.engine, tuple(st.ruleset.departments))


@click.group()
def users() -> None:
    """Staff accounts of the web console: add, list, disable."""


@users.command(name="add")
@store_options
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(["window", "department", "supervisor", "auditor"]))
@click.option("--department", default=None, help="Department id (department clerks only).")
@click.option("--by", "by", default="admin", help="Who adds the user (recorded in the audit trail).")
def add(store: Any, as_json: bool, name: str, role: str, department: str | None, by: str) -> None:
    """Add a user; the password comes from a hidden prompt or $FLOWMATCH_PASSWORD."""
    password = os.environ.get("FLOWMATCH_PASSWORD")
    if password is None:
        password = click.prompt("password", hide_input=True, confirmation_prompt=True, err=True)
    user = _accounts(store).add_user(name, role=role, password=password, department=department, at=_now(), by=by)
    _out(as_json, user.to_dict(), lambda: click.echo(f"added {user.name} ({user.role})"))


@users.command(name="list")
@store_options
def list_(store: Any, as_json: bool) -> None:
    """Every user with role, department and whether disabled."""
    found = _accounts(store).users()

    def text() -> None:
        for u in found:
            click.echo(f"{u.name}\t{u.role}\t{u.department or '-'}\t{'disabled' if u.disabled else 'active'}")

    _out(as_json, [u.to_dict() for u in found], text)


@users.command(name="disable")
@store_options
@click.argument("name")
@click.option("--by", "by", default="admin", help="Who disables the user (recorded in the audit trail).")
def disable(store: Any, as_json: bool, name: str, by: str) -> None:
    """Disable a user: their sessions end and their API tokens are revoked."""
    user = _accounts(store).disable_user(name, at=_now(), by=by)
    _out(as_json, user.to_dict(), lambda: click.echo(f"disabled {user.name}"))


@click.group()
def tokens() -> None:
    """API tokens for /api/v1 (stored hashed; shown once)."""


@tokens.command(name="create")
@store_options
@click.option("--user", "user", required=True, help="The user the token acts as (same role rules).")
@click.option("--by", "by", default="admin", help="Who creates the token (recorded in the audit trail).")
def create(store: Any, as_json: bool, user: str, by: str) -> None:
    """Create an API token for USER; it is printed once and cannot be shown again."""
    if not user.strip():
        raise InputError("--user is empty")
    token = _accounts(store).create_token(user, at=_now(), by=by)
    _out(as_json, {"user": user, "token": token}, lambda: click.echo(token))
