"""``/track`` (issue 15): the applicant's lookup — same page for a wrong number and a wrong code,
rate-limited per client, nothing about other applicants, works in both languages."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from flowmatch.tracking import CaseStore
from flowmatch.web.track import LIMIT

from .consolekit import Centre, centre, open_f10


@pytest.fixture()
def c(store: CaseStore) -> Iterator[Centre]:
    yield centre(store)


def test_the_applicant_sees_their_progress(c: Centre) -> None:
    opened = open_f10(c)
    web = TestClient(c.app)
    page = web.get("/track")
    assert page.status_code == 200 and 'name="code"' in page.text and "<script" not in page.text
    r = web.post("/track", data={"number": opened.number, "code": opened.query_code})
    assert r.status_code == 200
    assert "企业投资项目备案" in r.text and "发改委" in r.text  # who handles what
    assert "下一步" in r.text and 'id="finish"' in r.text and "<svg" in r.text
    assert "91350100M000100Y43" not in r.text  # the credit code is not shown
    en = web.post("/track?lang=en", data={"number": opened.number.lower(), "code": opened.query_code})
    assert "What comes next" in en.text and 'lang="en"' in en.text
    assert r.headers["cache-control"] == "no-store"


def _body(html: str) -> str:
    return re.sub(r'name="csrf" value="[^"]*"', "", html)


def test_wrong_code_and_wrong_number_get_the_same_page(c: Centre) -> None:
    opened = open_f10(c)
    other = open_f10(c)
    web = TestClient(c.app)
    wrong_code = web.post("/track", data={"number": opened.number, "code": "WRONGCODE1"})
    wrong_number = web.post("/track", data={"number": "JS2026-999999", "code": "WRONGCODE1"})
    others_code = web.post("/track", data={"number": opened.number, "code": other.query_code})
    empty = web.post("/track", data={"number": "", "code": ""})
    assert wrong_code.status_code == wrong_number.status_code == others_code.status_code == empty.status_code == 200
    assert _body(wrong_code.text) == _body(wrong_number.text) == _body(others_code.text) == _body(empty.text)
    assert 'id="not-found"' in wrong_code.text and opened.number not in wrong_code.text


def test_lookups_are_rate_limited_per_client(c: Centre) -> None:
    opened = open_f10(c)
    web = TestClient(c.app)
    for _ in range(LIMIT):
        assert web.post("/track", data={"number": "JS2026-000099", "code": "x"}).status_code == 200
    r = web.post("/track", data={"number": opened.number, "code": opened.query_code})
    assert r.status_code == 429 and "企业投资项目备案" not in r.text
    c.clock.now = c.clock.now.replace(minute=c.clock.now.minute + 2)
    assert "企业投资项目备案" in web.post("/track", data={"number": opened.number, "code": opened.query_code}).text
