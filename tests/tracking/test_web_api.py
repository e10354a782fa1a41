"""``/api/v1`` (issue 15): the OpenAPI document validates; an httpx client runs match → notice →
open case → record → status with API tokens; role rules as in the console; RFC 9457 errors."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from flowmatch.tracking import CaseStore

from .conftest import CREDIT, F10
from .consolekit import Centre, centre, forbidden_events

pytest.importorskip("fastapi")


@pytest.fixture()
def c(store: CaseStore) -> Iterator[Centre]:
    yield centre(store, tokens=True)


def api(c: Centre, user: str | None = None, token: str | None = None) -> TestClient:
    """An httpx client (Starlette's TestClient is one) on the app, with ``user``'s API token."""
    token = token or (c.tokens[user] if user else None)
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return TestClient(c.app, base_url="http://testserver/api/v1", headers=headers)


def test_the_openapi_document_validates(c: Centre) -> None:
    from openapi_spec_validator import validate

    doc = api(c).get("/openapi.json").json()
    validate(doc)
    assert {
        "/match",
        "/schedule",
        "/notice",
        "/search",
        "/cases",
        "/cases/{number}",
        "/cases/{number}/tasks/{step}/events",
        "/tasks",
    } <= set(doc["paths"])


def test_match_notice_open_record_status(c: Centre) -> None:
    public = api(c)
    matched = public.post("/match", json={"profile": F10}).json()
    assert matched["status"] == "matched" and matched["flowchart"]
    notice = public.post("/notice", json={"profile": F10, "start": "2026-03-02", "project_name": "滨江花园"})
    assert notice.status_code == 200, notice.text
    assert "滨江花园" in notice.text
    sched = public.post("/schedule", json={"profile": F10, "start": "2026-03-02"}).json()
    assert sched["start"] == "2026-03-02" and sched["steps"]
    hits = public.get("/search", params={"q": "环评"})
    assert hits.status_code == 200 and hits.json()
    window = api(c, "win")
    opened = window.post("/cases", json={"profile": F10, "applicant": "某某置业有限公司", "credit_code": CREDIT})
    assert opened.status_code == 201, opened.text
    number, code = opened.json()["number"], opened.json()["query_code"]
    assert code
    for event in ("accept", "handle", "review", "approve", "complete"):
        r = window.post(f"/cases/{number}/tasks/land_transfer_contract/events", json={"event": event})
        assert r.status_code == 200, r.text
    clerk = api(c, "fgw1")
    r = clerk.post(f"/cases/{number}/tasks/project/events", json={"event": "accept", "note": "收件"})
    assert r.status_code == 200 and r.json()["to"] == "accepted"
    status = clerk.get(f"/cases/{number}").json()
    assert next(t for t in status["tasks"] if t["step"] == "project")["state"] == "accepted"
    queue = clerk.get("/tasks").json()
    assert [q["step"] for q in queue] == ["project"]


def test_api_role_rules_and_problem_json(c: Centre) -> None:
    number = (
        api(c, "win").post("/cases", json={"profile": F10, "applicant": "甲", "credit_code": CREDIT}).json()["number"]
    )
    r = api(c).get(f"/cases/{number}")
    assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"
    assert set(r.json()) == {"type", "title", "status", "detail"} and r.json()["status"] == 401
    bad = api(c, token="fmt_not-a-token")
    assert bad.get(f"/cases/{number}").status_code == 401
    before = forbidden_events(c)
    for user in ("fgw1", "sup", "aud", "ylj1"):
        r = api(c, user).post("/cases", json={"profile": F10, "applicant": "甲", "credit_code": CREDIT})
        assert r.status_code == 403 and r.headers["content-type"] == "application/problem+json"
    for user in ("win", "sup", "aud", "ylj1"):
        r = api(c, user).post(f"/cases/{number}/tasks/project/events", json={"event": "accept"})
        assert r.status_code == 403, user
    assert api(c, "ylj1").get(f"/cases/{number}").status_code == 403
    assert api(c, "ylj1").get("/tasks", params={"department": "fgw"}).status_code == 403
    assert api(c, "win").get("/tasks").status_code == 403
    assert forbidden_events(c) == before + 4 + 4 + 3
    assert api(c, "sup").get(f"/cases/{number}").status_code == 200
    assert api(c, "sup").get("/cases/JS2026-999999").status_code == 404
    r = api(c).post("/match", json={"profile": F10, "extra": 1})
    assert r.status_code == 422 and r.json()["type"].endswith("invalid-request")
    r = api(c, "fgw1").post(f"/cases/{number}/tasks/project/events", json={"event": "approve"})
    assert r.status_code == 409 and "allowed" in r.json()["detail"]


def test_a_disabled_users_token_stops_working(c: Centre) -> None:
    assert api(c, "sup").get("/tasks").status_code == 200
    c.accounts.disable_user("sup", at=c.clock(), by="test")
    assert api(c, "sup").get("/tasks").status_code == 401
