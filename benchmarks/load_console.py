"""Loopback load test of issue 15: ``flowmatch serve --workers 2`` on a real PostgreSQL, 10,000 mixed
requests (``POST /track``, ``POST /api/v1/match``, ``GET /console/queue``), 0 errors expected.

    python benchmarks/load_console.py [--requests 10000] [--concurrency 16]

Starts a throwaway PostgreSQL (``tests/tracking/pgserver.py``; or ``$FLOWMATCH_TEST_PG_URL``), opens
20 cases and a department clerk, starts the server as a subprocess, then sends the requests from
threads with httpx (keep-alive) and prints the count, errors and p50/p95/p99 latency per kind.
``--track-limit`` is raised for the run: every request comes from 127.0.0.1, one "client".
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
from tracking import pgserver  # noqa: E402 - the test helper, found on the path just set

F10 = {
    "investor": "enterprise",
    "land_nature": "state_owned",
    "kind": "building",
    "acquisition": "tender_auction_listing",
    "regime": "filing",
    "building_use": "commercial_housing",
}
CREDIT = "91350100M000100Y43"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=10_000)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    server = pgserver.start()
    if isinstance(server, str):
        print(f"PostgreSQL not available: {server}")
        return 1
    proc = None
    try:
        url = pgserver.create_database(server.url)
        from flowmatch.auth import Accounts
        from flowmatch.tracking import open_store

        store = open_store(url)
        at = dt.datetime.now().replace(microsecond=0)
        Accounts(store.engine, tuple(store.ruleset.departments)).add_user(
            "clerk", role="department", department="fgw", password="load test password", at=at, by="bench"
        )
        cases = []
        for _ in range(20):
            opened = store.open_case(F10, applicant="压测公司", credit_code=CREDIT, at=at, by="bench")
            for event in ("accept", "handle", "review", "approve", "complete"):
                store.record(opened.number, "land_transfer_contract", event, by="bench", at=at, role="window")
            cases.append((opened.number, opened.query_code))
        store.engine.dispose()
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "flowmatch.cli",
                "serve",
                "--port",
                str(port),
                "--workers",
                str(args.workers),
                "--db",
                url,
                "--track-limit",
                "1000000000",
            ],
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + "/track", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                print("the server did not start")
                return 1
            time.sleep(0.2)
        login = httpx.Client(base_url=base)
        page = login.get("/console/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        login.post("/console/login", data={"csrf": csrf, "name": "clerk", "password": "load test password"})
        cookie = login.cookies.get("fm_session")
        local = threading.local()
        results: list[tuple[str, float, int]] = []
        lock = threading.Lock()

        def one(i: int) -> None:
            client = getattr(local, "client", None)
            if client is None:
                client = local.client = httpx.Client(base_url=base, timeout=30, cookies={"fm_session": cookie or ""})
            kind = ("track", "match", "queue")[i % 3]
            t0 = time.perf_counter()
            try:
                if kind == "track":
                    number, code = random.choice(cases)
                    r = client.post("/track", data={"number": number, "code": code})
                    ok = r.status_code == 200 and "企业投资项目备案" in r.text
                elif kind == "match":
                    r = client.post("/api/v1/match", json={"profile": F10})
                    ok = r.status_code == 200 and r.json()["status"] == "matched"
                else:
                    r = client.get("/console/queue?view=ready&sort=due")
                    ok = r.status_code == 200 and "JS" in r.text
                status = r.status_code if ok else -r.status_code
            except httpx.HTTPError:
                status = 0
            with lock:
                results.append((kind, time.perf_counter() - t0, status))

        start = time.perf_counter()
        with ThreadPoolExecutor(args.concurrency) as pool:
            list(pool.map(one, range(args.requests)))
        wall = time.perf_counter() - start
        errors = [r for r in results if r[2] <= 0]
        print(
            f"{len(results)} requests, {len(errors)} errors, {wall:.1f} s, {len(results) / wall:.0f} req/s, "
            f"{args.workers} workers, concurrency {args.concurrency}"
        )
        for kind in ("track", "match", "queue", "all"):
            times = sorted(t for k, t, _ in results if kind in (k, "all"))
            q = statistics.quantiles(times, n=100)
            print(
                f"{kind:6} n={len(times):5}  p50 {q[49] * 1000:6.1f} ms  p95 {q[94] * 1000:6.1f} ms  "
                f"p99 {q[98] * 1000:6.1f} ms"
            )
        return 1 if errors else 0
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=20)
        server.stop()


if __name__ == "__main__":
    raise SystemExit(main())
