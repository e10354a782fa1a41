"""Issue 20, cases 3, 4, 13 and 14 (web and serve): every query parameter goes through one
validation path (never a 500), pages render off the event loop with a bound, no open redirect,
``serve`` off loopback needs ``--allowed-host`` and runs with timeouts; Ctrl-C exits 130."""

from __future__ import annotations

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from flowmatch.cli import main
from flowmatch.ruleset import load_ruleset

from ._support import BASE, count, fuzz

web = pytest.importorskip("flowmatch.web")
testclient = pytest.importorskip("starlette.testclient")
pages = pytest.importorskip("flowmatch.web.pages")

RS = load_ruleset(BASE, cache=False)
APP = web.create_app(RS)
LEAKS = re.compile(r"Traceback|File \"[^\"]+\.py\"|site-packages|KeyError|line \d+, in ")


@pytest.fixture(scope="module")
def client() -> Any:
    return testclient.TestClient(APP, raise_server_exceptions=False)


# --- 3. empty and odd answers: never a 500 ---------------------------------------------------------------
@pytest.mark.parametrize(
    "query",
    [
        "kind=",
        "kind=%20",
        "kind=building&investor=",
        "removes_trees=",
        "kind=road&removes_trees=",
        "kind=&change=kind",
        "kind=building&investor=&change=investor",
    ],
)
def test_an_empty_answer_asks_the_question_again(client: Any, query: str) -> None:
    response = client.get("/ask?" + query)
    assert response.status_code == 200, response.text[:500]
    assert "<form" in response.text and not LEAKS.search(response.text)


@pytest.mark.parametrize("query", ["kind=&kind=road", "kind=castle", "removes_trees=perhaps", "kind=road&kind="])
def test_bad_answers_are_a_friendly_400(client: Any, query: str) -> None:
    response = client.get("/ask?" + query)
    assert response.status_code == 400
    assert not LEAKS.search(response.text)


@pytest.mark.parametrize(
    "url",
    [
        "/ask?kind=%ED%A0%80",
        "/ask?%FF=1",
        "/search?q=%C0",
        "/notice?kind=road&name=%ED%A0%80",
        "/flowchart/F01?situation=%ED%A0%80",
        "/ask?kind=road&start=%00",
        "/browse?lang=%FF",
    ],
)
def test_bytes_that_are_not_utf8_are_a_friendly_answer(client: Any, url: str) -> None:
    response = client.get(url)
    assert response.status_code in (200, 400)
    assert not LEAKS.search(response.text)


@pytest.mark.parametrize("path", ["/ask", "/notice", "/search", "/flowchart/F01", "/"])
def test_empty_values_of_every_parameter_never_fail(client: Any, path: str) -> None:
    keys = [*RS.attributes, *RS.flags, "lang", "change", "format", "name", "start", "q", "kind", "situation"]
    for key in keys:
        response = client.get(path, params={key: ""})
        assert response.status_code in (200, 400), (path, key, response.status_code)
        assert not LEAKS.search(response.text)


KEYS = [*RS.attributes, *RS.flags, "lang", "change", "format", "name", "start", "q", "kind", "situation"]
VALUES = [
    "",
    " ",
    "unsure",
    "true",
    "false",
    "en",
    "zh",
    "html",
    "md",
    "pdf",
    "2026-03-02",
    "2026-03-07",
    "\x00",
    "[/]",
    "<script>",
    "长" * 101,
    "9" * 400,
    "1e999",
    *(v for a in RS.attributes.values() for v in a.values),
    *RS.situations,
    *RS.flowcharts,
]
PATHS = [
    "/",
    "/ask",
    "/notice",
    "/search",
    "/browse",
    "/browse/alpha",
    "/browse/zz",
    "/flowchart/F01",
    "/flowchart/F02",
    "/flowchart/%00",
    "/item/P1",
    "/item/%2e%2e",
    "/material/application",
    "/material/x",
    "/ask/",
    "/static/style.css",
    "/static/%2e%2e/app.py",
]


@fuzz(400)
@given(
    path=st.sampled_from(PATHS),
    pairs=st.lists(
        st.tuples(
            st.one_of(st.sampled_from(KEYS), st.text(max_size=8)),
            st.one_of(st.sampled_from(VALUES), st.text(max_size=20)),
        ),
        max_size=8,
    ),
)
def test_every_route_with_any_query_never_answers_500(path: str, pairs: list[tuple[str, str]]) -> None:
    count("fuzz:web_round_two")
    client = testclient.TestClient(APP, raise_server_exceptions=False)
    response = client.get(path, params=pairs, follow_redirects=False)
    assert response.status_code in (200, 307, 400, 404, 414, 503), (path, pairs, response.status_code)
    if response.headers.get("content-type", "").startswith("text/html"):
        assert not LEAKS.search(response.text)


# --- 4. a slow page never stalls the others ------------------------------------------------------------------
def test_a_slow_render_does_not_delay_static_files(monkeypatch: pytest.MonkeyPatch) -> None:
    """Three notices whose rendering is stuck; meanwhile a static file and a page are still
    answered (the stuck renders run in worker threads, not on the event loop)."""
    render = pytest.importorskip("flowmatch.notice")  # the one pipeline the web page calls
    gate = threading.Event()
    inside = threading.Semaphore(0)
    real = render.render

    def stuck(*args: Any, **kwargs: Any) -> Any:
        inside.release()
        gate.wait(60)
        return real(*args, **kwargs)

    monkeypatch.setattr(render, "render", stuck)
    app = web.create_app(RS)
    with testclient.TestClient(app, raise_server_exceptions=False) as client, ThreadPoolExecutor(6) as pool:
        try:
            notices = [pool.submit(client.get, "/notice?kind=road&format=md") for _ in range(3)]
            assert inside.acquire(timeout=60), "no render started"
            started = time.monotonic()
            static = pool.submit(client.get, "/static/style.css").result(timeout=30)
            page = pool.submit(client.get, "/browse").result(timeout=30)
            elapsed = time.monotonic() - started
            assert static.status_code == 200 and page.status_code == 200
            assert not gate.is_set() and all(not f.done() for f in notices)  # answered while renders are stuck
            assert elapsed < 5.0, elapsed  # generous: "a fraction of a second" on an idle machine
        finally:
            gate.set()
        assert [f.result(timeout=60).status_code for f in notices] == [200, 200, 200]


def test_renders_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    render = pytest.importorskip("flowmatch.notice")
    gate = threading.Event()
    lock = threading.Lock()
    state = {"now": 0, "most": 0}
    real = render.render

    def counted(*args: Any, **kwargs: Any) -> Any:
        with lock:
            state["now"] += 1
            state["most"] = max(state["most"], state["now"])
        gate.wait(60)
        with lock:
            state["now"] -= 1
        return real(*args, **kwargs)

    monkeypatch.setattr(render, "render", counted)
    app = web.create_app(RS)
    total = pages.MAX_RENDERS + 3
    with testclient.TestClient(app, raise_server_exceptions=False) as client, ThreadPoolExecutor(total) as pool:
        try:
            futures = [pool.submit(client.get, "/notice?kind=road&format=md") for _ in range(total)]
            deadline = time.monotonic() + 60
            while state["most"] < pages.MAX_RENDERS and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(0.3)  # give any unbounded extra render the chance to start
            assert state["most"] == pages.MAX_RENDERS
        finally:
            gate.set()
        assert all(f.result(timeout=60).status_code == 200 for f in futures)


# --- 13. no open redirect; off loopback only with allowed hosts -------------------------------------------------
def test_slash_redirects_are_relative(client: Any) -> None:
    for path, expected in [
        ("/ask/", "/ask"),
        ("/ask/?kind=road", "/ask?kind=road"),
        ("/%5Cevil.example/", "/evil.example"),
        ("/browse/alpha/", "/browse/alpha"),
    ]:
        response = client.get(path, headers={"host": "evil.example"}, follow_redirects=False)
        assert response.status_code == 307
        assert response.headers["location"] == expected
        assert response.headers["x-frame-options"] == "DENY"


def test_serve_off_loopback_needs_allowed_hosts(monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    from flowmatch.web.serving import ENV, app_from_env

    monkeypatch.setenv(ENV, "{}")  # serve hands its settings to the worker factory here
    calls: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.update(kw, app=app))
    refused = CliRunner().invoke(main, ["serve", "--rules", str(BASE), "--host", "0.0.0.0"])
    assert refused.exit_code == 2 and not calls
    assert refused.stderr.startswith("error: serving on 0.0.0.0 needs --allowed-host NAME")
    ok = CliRunner().invoke(main, ["serve", "--rules", str(BASE), "--host", "0.0.0.0", "--allowed-host", "a.example"])
    assert ok.exit_code == 0, ok.output
    assert calls["app"] == "flowmatch.web.serving:app_from_env" and calls["factory"] is True
    client = testclient.TestClient(app_from_env(), base_url="http://a.example")
    assert client.get("/").status_code == 200
    assert client.get("/", headers={"host": "evil.example"}).status_code == 400


# --- 14. server timeouts; Ctrl-C exits 130; SECURITY.md names real tests ----------------------------------------
def test_serve_sets_the_server_timeouts(monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    from flowmatch.web.serving import ENV

    monkeypatch.setenv(ENV, "{}")
    calls: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.update(kw))
    assert CliRunner().invoke(main, ["serve", "--rules", str(BASE)]).exit_code == 0
    assert calls["timeout_keep_alive"] <= 10 and calls["limit_concurrency"] >= 1
    assert calls["h11_max_incomplete_event_size"] <= 64 * 1024


def test_an_interrupted_batch_exits_130(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cli_guide = pytest.importorskip("flowmatch.cli_guide")

    def interrupted(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_guide, "run_batch", interrupted)
    batch = tmp_path / "b.csv"
    batch.write_text("id,kind\np1,road\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["guide", "--rules", str(BASE), "--batch", str(batch), "-o", str(tmp_path / "o")])
    assert result.exit_code == 130
    assert result.stderr.endswith("interrupted\n")


def test_security_md_names_only_tests_that_exist() -> None:
    root = Path(__file__).resolve().parents[2]
    text = (root / "SECURITY.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`(test_\w+)", text))
    assert named, "SECURITY.md names no tests"
    sources = "\n".join(p.read_text(encoding="utf-8") for p in (root / "tests").rglob("test_*.py"))
    missing = sorted(n for n in named if not re.search(rf"def {n}\b", sources))
    assert missing == []
    assert "see the open issues" not in text
