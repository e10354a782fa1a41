"""Figure 1 — matching a profile: flowmatch's compiled decision tree beside its peers.

Every matcher gets the same complete profiles (all eight attributes answered; a stratified,
seeded sample with up to 8 profiles per situation or not-applicable rule) and answers with the
rule that holds.  Before anything is timed each peer is checked against flowmatch on every
complete profile of the attribute space (64,512 for Harbin 2014; a sample with ``--quick``).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import packaged
from peers import rules as peer_rules
from timing import Figure, bench, speedup

SECTION = "match"


def _peers(which: tuple[str, ...]) -> dict[str, Any]:
    rs, _ = packaged.ruleset()
    domains, rules = peer_rules.raw_rules(rs.path)
    out: dict[str, Any] = {}
    if "rule-engine" in which:
        out["rule-engine"] = peer_rules.rule_engine_matcher(rules)
    if "business-rules" in which:
        out["business-rules"] = peer_rules.business_rules_matcher(rules, domains)
    if "naive loop" in which:
        out["naive loop"] = peer_rules.naive_matcher(rs)
    return out


def _verify_chunk(args: tuple[tuple[str, ...], list[tuple[tuple[str, ...], str]]]) -> dict[str, Any]:
    names, chunk = args
    order, _ = packaged.answers()
    matchers = _peers(names)
    wrong: dict[str, list[Any]] = {name: [] for name in names}
    for values, expected in chunk:
        profile = dict(zip(order, values, strict=True))
        for name, fn in matchers.items():
            got = fn(profile)
            if got != expected:
                wrong[name].append((values, expected, got))
    return {"checked": len(chunk), "wrong": wrong}


def verify(names: tuple[str, ...], quick: bool) -> tuple[int, dict[str, list[Any]]]:
    """Check each peer against flowmatch; returns (profiles checked, mismatches by peer)."""
    order, table = packaged.answers()
    items = list(table.items())
    if quick:
        rng = random.Random(11)
        sample = {tuple(p[a] for a in order) for p in packaged.stratified_profiles(per_rule=40)}
        items = [(v, table[v]) for v in sample] + rng.sample(items, 1000)
    workers = max(1, min(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1, 8))
    chunks = [(names, items[i :: workers * 4]) for i in range(workers * 4)]
    if workers == 1:
        results = [_verify_chunk(c) for c in chunks]
    else:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            results = pool.map(_verify_chunk, chunks)
    wrong: dict[str, list[Any]] = {name: [] for name in names}
    for r in results:
        for name, bad in r["wrong"].items():
            wrong[name].extend(bad)
    return sum(r["checked"] for r in results), wrong


def run(quick: bool = False) -> list[Figure]:
    _, note = packaged.ruleset()
    order, table = packaged.answers()
    matcher = packaged.matcher()
    profiles = packaged.stratified_profiles()
    n = len(profiles)
    figures: list[Figure] = []

    names = ("rule-engine", "business-rules", "naive loop")
    t0 = time.perf_counter()
    checked, wrong = verify(names, quick)
    verify_s = time.perf_counter() - t0
    print(f"  verified peers on {checked:,} complete profiles in {verify_s:.1f} s", file=sys.stderr)
    peers = _peers(names)
    peers["dict lookup"] = peer_rules.dict_matcher(order, table)

    def over(fn: Any) -> Any:
        def loop() -> None:
            for p in profiles:
                fn(p)

        return loop

    for p in profiles:  # the flowmatch answers agree with the table (and warm every leaf)
        r = matcher.match(p)
        assert (r.situation or r.rule) == table[tuple(p[a] for a in order)]
    mine = bench(over(matcher.match), per=n)
    base_note = f"{n} complete profiles (≤8 per rule), warm; " + (note + "; " if note else "")
    targets = {
        "naive loop": ("faster", lambda s: s > 1.0),
        "rule-engine": ("≥30× faster", lambda s: s >= 30.0),
        "business-rules": ("≥30× faster", lambda s: s >= 30.0),
        "dict lookup": ("≤10× slower", lambda s: s >= 0.1),
    }
    for name, fn in peers.items():
        slow = name in ("rule-engine", "business-rules")
        t = bench(over(fn), per=n, repeats=(5 if quick else 9) if slow else None)
        s = speedup(mine.median_ns, t.median_ns)
        target, ok = targets[name]
        bad = len(wrong.get(name, []))
        verified = (
            ""
            if name == "dict lookup"
            else (
                f"verified identical on {checked:,} complete profiles"
                if not bad
                else f"DIFFERS on {bad} profiles, e.g. {wrong[name][0]}"
            )
        )
        figures.append(
            Figure(
                SECTION,
                f"match one profile vs {name}",
                mine.us,
                "µs",
                name,
                t.us,
                s,
                target,
                ok(s) and not bad,
                base_note + verified,
                {"flowmatch_timing": vars(mine), "peer_timing": vars(t), "mismatches": bad},
            )
        )

    # All 64,512 complete profiles in turn: mostly first-time profiles for the result memo.
    space = [dict(zip(order, v, strict=True)) for v in table]
    lookup = peers["dict lookup"]

    def sweep(fn: Any) -> Any:
        def loop() -> None:
            for p in space:
                fn(p)

        return loop

    distinct = bench(sweep(matcher.match), per=len(space), repeats=3 if quick else 5, target_ms=1)
    limit = bench(sweep(lookup), per=len(space), repeats=3 if quick else 5, target_ms=1)
    figures.append(
        Figure(
            SECTION,
            f"match each of the {len(space):,} complete profiles once",
            distinct.us,
            "µs",
            "dict lookup",
            limit.us,
            speedup(distinct.median_ns, limit.median_ns),
            "",
            None,
            "no target: shows the cost when profiles do not repeat (results are remembered for up to 20,000 enquiries)",
        )
    )
    figures.extend(stream(quick))
    return figures


# --- 100,000 profiles through `flowmatch match -` ---------------------------------------------------
_ROUND_TRIP = """
import json, sys
write = sys.stdout.write
for n, line in enumerate(sys.stdin, 1):
    text = line.strip()
    if text:
        write(json.dumps({"line": n, **json.loads(text)}, ensure_ascii=False) + "\\n")
"""


def _stream_input(count: int, seed: int = 5) -> bytes:
    """``count`` JSON Lines: a rule drawn at random (situations 4× as likely), then a random complete
    profile it selects, with only the questions a questionnaire would ask answered."""
    rs, _ = packaged.ruleset()
    order, table = packaged.answers()
    by_rule: dict[str, list[tuple[str, ...]]] = {}
    for values, rid in table.items():
        by_rule.setdefault(rid, []).append(values)
    rules = sorted(by_rule)
    weights = [4.0 if r in rs.situations else 1.0 for r in rules]
    rng = random.Random(seed)
    lines = []
    for rid in rng.choices(rules, weights, k=count):
        values = rng.choice(by_rule[rid])
        profile = packaged.asked_profile(rs, dict(zip(order, values, strict=True)))
        lines.append(json.dumps(profile, ensure_ascii=False))
    return ("\n".join(lines) + "\n").encode()


def _random_input(count: int, seed: int = 18) -> bytes:
    """``count`` distinct random profiles (issue 18): half complete, half partial (each question
    answered with probability 0.6), values drawn uniformly — most never repeat a leaf's answers."""
    rs, _ = packaged.ruleset()
    attrs = {a: list(x.values) for a, x in rs.attributes.items()}
    rng = random.Random(seed)
    seen: set[str] = set()
    lines: list[str] = []
    while len(lines) < count:
        complete = rng.random() < 0.5
        text = json.dumps(
            {a: rng.choice(v) for a, v in attrs.items() if complete or rng.random() < 0.6}, ensure_ascii=False
        )
        if text not in seen:
            seen.add(text)
            lines.append(text)
    return ("\n".join(lines) + "\n").encode()


def _per_profile(rs: Any, data: bytes) -> list[str]:
    """The lines ``flowmatch match -`` must write for ``data``: each profile matched alone by a fresh
    matcher (nothing remembered from the batch), its result as ``json.dumps`` writes it."""
    from flowmatch.matcher import Matcher

    alone = Matcher(rs)
    return [
        json.dumps({"line": n, **alone.match(json.loads(line)).to_dict()}, ensure_ascii=False)
        for n, line in enumerate(data.decode().splitlines(), start=1)
    ]


def stream(quick: bool) -> list[Figure]:
    count = 20_000 if quick else 100_000
    return [
        *_stream(count, _stream_input(count), "questionnaire profiles", complete_only=True, target=None),
        *_stream(
            count,
            _random_input(count),
            "distinct random profiles, complete and partial",
            complete_only=False,
            target=2.5,
        ),
    ]


def _stream(count: int, data: bytes, what: str, *, complete_only: bool, target: float | None) -> list[Figure]:
    rs, note = packaged.ruleset()
    env = dict(os.environ)
    figures = []
    with tempfile.TemporaryDirectory() as cache:
        env["FLOWMATCH_CACHE_DIR"] = cache
        if note:
            env["FLOWMATCH_RULES"] = str(rs.path)
        argv = [str(Path(sys.executable).with_name("flowmatch")), "match", "-"]
        if not Path(argv[0]).exists():
            argv = [sys.executable, "-m", "flowmatch.cli", "match", "-"]
        runs = 2 if count < 100_000 else 3
        samples, peer = [], []
        out = b""
        subprocess.run(argv, input=data[: data.index(b"\n") + 1], capture_output=True, env=env)  # primes the cache
        for _ in range(runs):
            t0 = time.perf_counter_ns()
            done = subprocess.run(argv, input=data, capture_output=True, env=env)
            elapsed = time.perf_counter_ns() - t0
            if done.returncode not in (0, 2):
                raise RuntimeError(f"flowmatch match - exited {done.returncode}: {done.stderr.decode()[-300:]}")
            out = done.stdout
            samples.append(elapsed)
            t0 = time.perf_counter_ns()
            subprocess.run([sys.executable, "-c", _ROUND_TRIP], input=data, capture_output=True, check=True)
            peer.append(time.perf_counter_ns() - t0)
        lines = out.decode().splitlines()
        same = lines == _per_profile(rs, data)  # every line as matching that profile alone gives it
        statuses: dict[str, int] = {}
        for line in lines:
            status = json.loads(line)["status"]
            statuses[status] = statuses.get(status, 0) + 1
        ok = same and len(lines) == count and statuses.get("invalid", 0) == 0
        if complete_only:
            ok = ok and statuses.get("incomplete", 0) == 0
        mine = sorted(samples)[len(samples) // 2]
        theirs = sorted(peer)[len(peer) // 2]
        slower = mine / theirs
        met = None if target is None else (ok and slower <= target)
        figures.append(
            Figure(
                SECTION,
                f"{count:,} {what} through `flowmatch match -` (JSON Lines, whole process)",
                count / (mine / 1e9),
                "profiles/s",
                "JSON Lines round trip, no matching",
                count / (theirs / 1e9),
                theirs / mine,
                f"≤{target}× slower" if target else "",
                met if ok else False,
                f"median of {runs} runs ({mine / 1e9:.2f} s each incl. start-up; {slower:.2f}× the round trip); "
                f"{statuses}; output "
                + ("identical to" if same else "DIFFERS from")
                + " matching each profile alone (a fresh Matcher, json.dumps of its result); "
                "peer: python reading and re-writing each line with json, the I/O floor",
            )
        )
    return figures
