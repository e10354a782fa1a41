"""Every tracking test runs on SQLite and on a real PostgreSQL server (see ``pgserver``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from flowmatch.ruleset import RuleSet
from flowmatch.tracking import CaseStore, open_store

from . import pgserver

F10 = {
    "investor": "enterprise",
    "land_nature": "state_owned",
    "kind": "building",
    "acquisition": "tender_auction_listing",
    "regime": "filing",
    "building_use": "commercial_housing",
}
CREDIT = "91350100M000100Y43"  # a valid 统一社会信用代码 (GB 32100 check digit Y... 3)


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    server = pgserver.start()
    if isinstance(server, str):
        pytest.skip(f"PostgreSQL not available: {server}")
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'cases.sqlite'}"
        return
    admin = request.getfixturevalue("pg_admin_url")
    url = pgserver.create_database(admin)
    try:
        yield url
    finally:
        pgserver.drop_database(admin, url)


@pytest.fixture()
def store(db_url: str, ruleset: RuleSet) -> Iterator[CaseStore]:
    st = open_store(db_url, ruleset=ruleset)
    try:
        yield st
    finally:
        st.engine.dispose()
