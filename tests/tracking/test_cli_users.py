"""``flowmatch users add|list|disable`` and ``flowmatch tokens create`` on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from flowmatch.auth import Accounts
from flowmatch.cli import main
from flowmatch.tracking.store import engine


def run(*args: str, env: dict[str, str] | None = None, input: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), env=env, input=input, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_users_and_tokens(db_url: str) -> None:
    pw = {"FLOWMATCH_PASSWORD": "a long password"}
    assert run("users", "add", "li", "--role", "department", "--department", "fgw", "--db", db_url, env=pw)[0] == 0
    code, out, _ = run("users", "add", "wang", "--role", "window", "--db", db_url, input="another password\n" * 2)
    assert code == 0 and "added wang (window)" in out
    code, _, err = run("users", "add", "zhao", "--role", "department", "--db", db_url, env=pw)
    assert code == 2 and "a department clerk needs --department" in err
    code, _, err = run("users", "add", "zhao", "--role", "department", "--department", "nope", "--db", db_url, env=pw)
    assert code == 2 and "unknown department 'nope'" in err
    code, _, err = run("users", "add", "zhao", "--role", "auditor", "--db", db_url, env={"FLOWMATCH_PASSWORD": "short"})
    assert code == 2 and "the password is shorter than 10 characters" in err
    code, _, err = run("users", "add", "li", "--role", "auditor", "--db", db_url, env=pw)
    assert code == 2 and "user 'li' already exists" in err
    code, out, _ = run("users", "list", "--db", db_url, "--json")
    assert json.loads(out) == [
        {"name": "li", "role": "department", "department": "fgw", "disabled": False},
        {"name": "wang", "role": "window", "department": None, "disabled": False},
    ]
    code, out, _ = run("tokens", "create", "--user", "li", "--db", db_url)
    token = out.strip()
    assert code == 0 and token.startswith("fmt_")
    eng = engine(db_url)
    try:
        accounts = Accounts(eng)
        assert accounts.user_for_token(token) is not None
        from sqlalchemy import text

        with eng.connect() as conn:
            stored = conn.execute(text("SELECT token_hash FROM api_tokens")).scalars().all()
            hashes = conn.execute(text("SELECT password_hash FROM users")).scalars().all()
        assert token not in stored and all(h.startswith("$argon2id$") for h in hashes)
        code, out, _ = run("users", "disable", "li", "--db", db_url)
        assert code == 0 and "disabled li" in out
        assert accounts.user_for_token(token) is None
        code, _, err = run("tokens", "create", "--user", "li", "--db", db_url)
        assert code == 2 and "no active user named 'li'" in err
    finally:
        eng.dispose()


@pytest.mark.parametrize("args", [("users", "disable", "ghost"), ("tokens", "create", "--user", "ghost")])
def test_unknown_users(db_url: str, args: tuple[str, ...]) -> None:
    code, _, err = run(*args, "--db", db_url)
    assert code == 2 and "'ghost'" in err
