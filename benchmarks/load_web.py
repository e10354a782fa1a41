"""A bounded load test of ``flowmatch serve`` on loopback, from a second process.

    python benchmarks/load_web.py                      # 10,000 requests, at most 30 s, 8 connections
    python benchmarks/load_web.py --requests 2000 --duration 10 --concurrency 8 --rules tests/robustness/base

Starts ``flowmatch serve`` as a subprocess on a free port of 127.0.0.1, waits until it answers, then
sends a fixed mix of pages (home, questionnaire steps, search, browse, flowcharts, and tampered
queries that must get a 400) from this process: a small asyncio HTTP/1.1 keep-alive client (no
client library, so that the client's own overhead stays far below the server's).  An *error* is a
connection failure, a timeout, or a status other than the one the URL must get (a 400 for a
tampered query is the right answer, not an error).  Prints a table and writes
``benchmarks/results/load_web.json`` (read by ``benchmarks/run.py``).  Not part of the test run.

Skips with a message (exit 0) when the web extra (starlette, uvicorn) is missing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from collections import Counter
from importlib.util import find_spec
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
NEEDED = {"starlette": "web extra", "uvicorn": "web extra", "jinja2": "web extra"}


def missing() -> list[str]:
    return [f"{name} ({extra})" for name, extra in NEEDED.items() if find_spec(name) is None]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def url_mix(rules: str | None) -> list[tuple[str, int]]:
    """(path, expected status) pairs drawn from the rule-set the server uses."""
    from urllib.parse import urlencode

    from flowmatch.ruleset import load_ruleset

    rs = load_ruleset(rules)
    first, *_ = rs.attributes.values()
    mix: list[tuple[str, int]] = [
        ("/", 200),
        ("/ask", 200),
        ("/browse", 200),
        ("/search?" + urlencode({"q": "施工许可"}), 200),
        ("/search?" + urlencode({"q": "<script>alert(1)</script>"}), 200),
    ]
    mix += [("/ask?" + urlencode({first.id: v}), 200) for v in first.values]
    mix += [(f"/flowchart/{fid}", 200) for fid in list(rs.flowcharts)[:8]]
    mix += [(f"/browse/{cid}", 200) for cid in list(rs.manifest.categories)[:3]]
    mix += [
        ("/ask?" + urlencode({first.id: "castle"}), 400),
        ("/ask?evil=1", 400),
        ("/ask?" + urlencode([(first.id, v) for v in list(first.values)[:2]]), 400),
        ("/nowhere", 404),
    ]
    return mix


class Connection:
    """One keep-alive HTTP/1.1 connection: GET a path, read status and body (Content-Length)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(f"GET {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n\r\n".encode("ascii"))
        await self.writer.drain()
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
        if "content-length" not in headers:
            raise ValueError(f"no Content-Length in the response to {path}")
        await self.reader.readexactly(int(headers["content-length"]))
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return status

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None


async def _worker(
    host: str,
    port: int,
    mix: list[tuple[str, int]],
    queue: asyncio.Queue[int],
    deadline: float,
    latencies: list[float],
    statuses: Counter[str],
    errors: Counter[str],
) -> None:
    conn = Connection(host, port)
    try:
        while True:
            try:
                i = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            if time.perf_counter() > deadline:
                return
            path, expected = mix[i % len(mix)]
            begin = time.perf_counter()
            try:
                status = await asyncio.wait_for(conn.get(path), timeout=10.0)
            except Exception as exc:  # every failure is counted, none stops the run
                errors[type(exc).__name__] += 1
                await conn.close()
                continue
            latencies.append(time.perf_counter() - begin)
            statuses[str(status)] += 1
            if status != expected:
                errors[f"status {status} for {path} (expected {expected})"] += 1
    finally:
        await conn.close()


async def load(
    host: str, port: int, mix: list[tuple[str, int]], requests: int, duration: float, concurrency: int
) -> dict[str, Any]:
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(requests):
        queue.put_nowait(i)
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    begin = time.perf_counter()
    deadline = begin + duration
    await asyncio.gather(
        *(_worker(host, port, mix, queue, deadline, latencies, statuses, errors) for _ in range(concurrency))
    )
    elapsed = time.perf_counter() - begin
    done = len(latencies) + sum(v for k, v in errors.items() if not k.startswith("status "))
    return {
        "requests": done,
        "planned": requests,
        "errors": sum(errors.values()),
        "error_kinds": dict(errors),
        "by_status": dict(sorted(statuses.items())),
        "seconds": round(elapsed, 3),
        "throughput_per_s": round(done / elapsed, 1) if elapsed else None,
        "latencies": latencies,
    }


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = max(0, min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


def start_server(rules: str | None, port: int) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "flowmatch.cli", "serve", "--port", str(port)]
    if rules:
        cmd += ["--rules", rules]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def wait_ready(host: str, port: int, server: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(
                "flowmatch serve exited: " + (server.stderr.read().decode(errors="replace") if server.stderr else "")
            )

        async def probe() -> int:
            conn = Connection(host, port)
            try:
                return await conn.get("/")
            finally:
                await conn.close()

        try:
            if asyncio.run(probe()) == 200:
                return
        except (OSError, ValueError, asyncio.IncompleteReadError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"flowmatch serve did not answer on {host}:{port} within {timeout:.0f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--duration", type=float, default=30.0, help="stop sending after this many seconds")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rules", default=None, help="rule-set directory (default: the packaged one)")
    parser.add_argument("--json", action="store_true", help="print the JSON result instead of the table")
    parser.add_argument("--quick", action="store_true", help="1,000 requests over at most 10 s")
    args = parser.parse_args(argv)
    if args.quick:
        args.requests, args.duration = min(args.requests, 1000), min(args.duration, 10.0)
    lacking = missing()
    if lacking:
        print(f"skipped: the web load test needs {', '.join(lacking)}; pip install '.[web]'")
        return 0

    mix = url_mix(args.rules)
    host, port = "127.0.0.1", free_port()
    server = start_server(args.rules, port)
    try:
        wait_ready(host, port, server)
        result = asyncio.run(load(host, port, mix, args.requests, args.duration, args.concurrency))
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
    lat = result.pop("latencies")
    ms = {name: round(percentile(lat, q) * 1000, 2) for name, q in (("p50", 50), ("p95", 95), ("p99", 99))}
    ms["max"] = round(max(lat) * 1000, 2) if lat else None
    ms["mean"] = round(statistics.fmean(lat) * 1000, 2) if lat else None
    report: dict[str, Any] = {
        "benchmark": "web load test: flowmatch serve on 127.0.0.1, client in a second process (asyncio, keep-alive)",
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()},
        "rules": args.rules or "packaged",
        "concurrency": args.concurrency,
        "duration_cap_s": args.duration,
        "urls": len(mix),
        **result,
        "latency_ms": ms,
    }
    report["figures"] = [
        {
            "figure": "web: requests answered",
            "value": report["requests"],
            "unit": "",
            "note": f"of {args.requests} planned, {report['seconds']} s, {args.concurrency} connections",
        },
        {"figure": "web: errors", "value": report["errors"], "unit": "", "target": "0", "met": report["errors"] == 0},
        {"figure": "web: throughput", "value": report["throughput_per_s"], "unit": "req/s"},
        {"figure": "web: latency p50", "value": ms["p50"], "unit": "ms"},
        {"figure": "web: latency p95", "value": ms["p95"], "unit": "ms"},
        {"figure": "web: latency p99", "value": ms["p99"], "unit": "ms"},
    ]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "load_web.json").write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        rows = [
            ("requests answered", f"{report['requests']} / {args.requests} planned"),
            ("errors", str(report["errors"])),
            ("duration", f"{report['seconds']} s"),
            ("throughput", f"{report['throughput_per_s']} req/s"),
            ("concurrency", str(args.concurrency)),
            ("latency p50 / p95 / p99", f"{ms['p50']} / {ms['p95']} / {ms['p99']} ms"),
            ("latency max / mean", f"{ms['max']} / {ms['mean']} ms"),
            ("statuses", ", ".join(f"{k}: {v}" for k, v in report["by_status"].items())),
        ]
        width = max(len(k) for k, _ in rows)
        print("flowmatch serve — load test on 127.0.0.1")
        for k, v in rows:
            print(f"  {k:<{width}}  {v}")
        for kind, n in report["error_kinds"].items():
            print(f"  error: {kind} × {n}")
        print(f"written to {RESULTS / 'load_web.json'}")
    return 1 if report["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
