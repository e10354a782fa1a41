"""The web pages under hostile requests: validated query strings, friendly errors without stack
traces, size limits, security headers on every response, escaped echoes, loopback by default.

Skipped (not failed) when the ``[web]`` extra or the web package is absent.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flowmatch.ruleset import load_ruleset

from ._support import BASE, count, fuzz

web = pytest.importorskip("flowmatch.web")
testclient = pytest.importorskip("starlette.testclient")

RS = load_ruleset(BASE, cache=False)
APP = web.create_app(RS)
LEAKS = re.compile(r"Traceback|File \"[^\"]+\.py\"|site-packages|RuntimeError|KeyError|line \d+, in ")


@pytest.fixture(scope="module")
def client() -> Any:
    return testclient.TestClient(APP, raise_server_exceptions=False)


def _assert_secured(response: Any) -> None:
    headers = response.headers
    csp = headers.get("content-security-policy", "")
    directives = {d.strip().split(" ", 1)[0]: d.strip() for d in csp.split(";") if d.strip()}
    assert "frame-ancestors 'none'" in csp, csp
    assert headers.get("x-content-type-options") == "nosniff"
    script = directives.get("script-src", directives.get("default-src", ""))
    assert "'unsafe-inline'" not in script and "'unsafe-eval'" not in script, csp
    if "style-src" not in directives or response.url.path != "/notice":
        assert "'unsafe-inline'" not in csp, f"{response.url.path}: {csp}"


def _assert_friendly(response: Any) -> None:
    assert not LEAKS.search(response.text), response.text[:2000]
    assert response.headers["content-type"].startswith("text/html")


# --- headers ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/ask",
        "/ask?kind=road",
        "/search?q=施工",
        "/browse",
        "/flowchart/F01",
        "/item/P1",
        "/material/application",
        "/static/style.css",
        "/nowhere",
        "/ask?kind=castle",
        "/notice?kind=road",
    ],
)
def test_security_headers_on_every_response(client: Any, url: str) -> None:
    count("web_request")
    response = client.get(url)
    assert response.status_code in (200, 400, 404)
    _assert_secured(response)


def test_the_printable_notice_allows_inline_styles_never_scripts(client: Any) -> None:
    pytest.importorskip("flowmatch.render")
    response = client.get("/notice?kind=road&format=html")
    assert response.status_code == 200
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp and "frame-ancestors 'none'" in csp
    assert "<script" not in response.text


# --- tampered query strings --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "query",
    [
        "kind=castle",
        "kind=road&kind=building",
        "evil=1",
        "kind=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        "lang=fr",
        "change=nowhere",
        "kind=%ED%A0%80",
        "kind=road&removes_trees=perhaps",
        "kind[]=road",
        "%00=%00",
    ],
)
def test_tampered_answers_get_a_friendly_400(client: Any, query: str) -> None:
    count("web_request")
    response = client.get("/ask?" + query)
    assert response.status_code == 400
    _assert_friendly(response)
    _assert_secured(response)
    assert "<script>alert(1)" not in response.text


@pytest.mark.parametrize(
    "query",
    [
        "kind=road&format=exe",
        "kind=road&start=2026-02-30",
        "kind=road&start=tomorrow",
        "kind=road&name=" + "长" * 101,
        "kind=building",
        "kind=road&format=html&format=md",
    ],
)
def test_bad_notice_requests_get_a_friendly_400(client: Any, query: str) -> None:
    count("web_request")
    response = client.get("/notice?" + query)
    assert response.status_code == 400
    _assert_friendly(response)


def test_notice_past_the_calendar_is_a_friendly_400_on_the_same_form(client: Any) -> None:
    pytest.importorskip("flowmatch.render")
    response = client.get("/notice?kind=road&start=2100-03-01&name=东二环")
    assert response.status_code == 400
    _assert_friendly(response)
    assert "2100" in response.text
    assert 'id="notice-problems"' in response.text  # on the result page's notice form ...
    assert 'value="2100-03-01"' in response.text and 'value="东二环"' in response.text  # ... answers kept
    assert 'name="kind" value="road"' in response.text
    assert "tampered" not in response.text and "篡改" not in response.text and "--" not in response.text


def test_notice_in_december_is_dated_with_2027_marked_as_estimates(client: Any) -> None:
    pytest.importorskip("flowmatch.render")
    response = client.get("/notice?kind=road&start=2026-12-28")
    assert response.status_code == 200
    assert "2027年节假日安排尚未公布" in response.text and "（预计）" in response.text


def test_notice_on_a_day_off_suggests_the_next_working_day(client: Any) -> None:
    pytest.importorskip("flowmatch.render")
    response = client.get("/notice?kind=road&start=2026-10-01")
    assert response.status_code == 400
    assert "2026-10-01 不是工作日" in response.text and "2026-10-08" in response.text
    assert 'value="2026-10-01"' in response.text


# --- escaping of what is echoed back --------------------------------------------------------------------------
def test_search_query_is_echoed_escaped(client: Any) -> None:
    response = client.get("/search", params={"q": "<script>alert(1)</script>\"'><img src=x onerror=alert(2)>"})
    assert response.status_code == 200
    assert "<script>alert(1)" not in response.text and "<img src=x" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text


def test_project_name_is_escaped_in_the_notice(client: Any) -> None:
    pytest.importorskip("flowmatch.render")
    response = client.get("/notice", params={"kind": "road", "name": "<script>alert(1)</script>"})
    assert response.status_code == 200
    assert "<script>alert(1)" not in response.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text


# --- size limits --------------------------------------------------------------------------------------------
def test_oversize_requests_are_refused(client: Any) -> None:
    big = client.post("/ask", content=b"x" * 1_000_000)
    assert big.status_code == 413
    _assert_secured(big)
    _assert_friendly(big)
    declared = client.get("/", headers={"content-length": "999999999"})
    assert declared.status_code == 413
    long_url = client.get("/ask?" + "kind=road&" * 1000)
    assert long_url.status_code == 414
    _assert_secured(long_url)


def test_methods_other_than_get_are_refused(client: Any) -> None:
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        response = client.request(method, "/ask?kind=road")
        assert response.status_code in (405, 413)
        _assert_secured(response)
        _assert_friendly(response)


# --- failures inside a page --------------------------------------------------------------------------------------
def test_an_internal_error_is_a_plain_500_without_details(monkeypatch: pytest.MonkeyPatch) -> None:
    app = web.create_app(RS)
    client = testclient.TestClient(app, raise_server_exceptions=False)

    def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("secret internal detail /etc/flowmatch")

    monkeypatch.setattr(app.pages, "_categories", boom)
    response = client.get("/browse")
    assert response.status_code == 500
    assert "secret internal detail" not in response.text
    _assert_friendly(response)
    _assert_secured(response)


# --- where it listens --------------------------------------------------------------------------------------------
def test_serve_binds_to_loopback_by_default() -> None:
    cli_find = pytest.importorskip("flowmatch.cli_find")
    host = next(p for p in cli_find.serve.params if p.name == "host")
    assert host.default == "127.0.0.1"


def test_other_host_headers_are_refused_on_loopback() -> None:
    """DNS rebinding: a page on evil.example resolving to 127.0.0.1 must not reach the app."""
    app = web.create_app(RS, allowed_hosts=["127.0.0.1", "localhost"])
    client = testclient.TestClient(app, base_url="http://127.0.0.1:8000")
    assert client.get("/").status_code == 200
    refused = client.get("/", headers={"host": "evil.example:8000"})
    assert refused.status_code == 400
    _assert_secured(refused)


# --- fuzzing the query string --------------------------------------------------------------------------------------
KEYS = [*RS.attributes, *RS.flags, "lang", "change", "format", "name", "start", "q", "kind", "situation"]
VALUES = [v for a in RS.attributes.values() for v in a.values] + ["unsure", "true", "false", "en", "zh", "html", "md"]
PATHS = [
    "/",
    "/ask",
    "/search",
    "/browse",
    "/browse/alpha",
    "/flowchart/F01",
    "/flowchart/F99",
    "/item/P1",
    "/material/application",
    "/notice",
]


@fuzz(250)
@given(
    path=st.sampled_from(PATHS),
    pairs=st.lists(
        st.tuples(
            st.one_of(st.sampled_from(KEYS), st.text(max_size=12)),
            st.one_of(st.sampled_from(VALUES), st.text(max_size=30)),
        ),
        max_size=8,
    ),
)
def test_random_query_strings_never_cause_a_500(path: str, pairs: list[tuple[str, str]]) -> None:
    count("fuzz:web")
    client = testclient.TestClient(APP, raise_server_exceptions=False)
    response = client.get(path, params=pairs)
    assert response.status_code in (200, 400, 404, 414, 503), (path, pairs, response.status_code)
    _assert_secured(response)
    if response.status_code != 200 or path != "/notice":
        _assert_friendly(response)
