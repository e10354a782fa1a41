"""How many questions until the flow is known: the wizard beside a full form.

For every situation, every complete profile it covers is followed through

* **wizard** — :func:`flowmatch.next_question`, the exact expected-questions minimiser;
* **greedy** — the same wizard forced onto its fallback, one-step information gain;
* **fixed order** — the matcher's decision tree: the rule-set's asking order, skipping questions
  that cannot matter;
* **form + asked_when** — a form that shows each question only where its ``asked_when`` holds;
* **full form** — every attribute asked, always.

A situation's *average* is over the complete profiles it covers (the wizard's model: a rule's
weight spread evenly over its combinations), its *worst* the longest path to it.  The summary
averages the 33 situations equally and also gives the expected number under the wizard's
weights (situations and not-applicable rules).  Timings: the wizard's one-off solve per rule-set
and the median time of one ``next_question`` call, and the search index and one query.

    python benchmarks/bench_wizard.py            # table; writes benchmarks/results/wizard.json
    python benchmarks/bench_wizard.py --json     # the JSON on stdout (used by run.py)
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from flowmatch.checker import Space
from flowmatch.matcher import matcher_for
from flowmatch.ruleset import RuleSet, load_ruleset
from flowmatch.search import SearchIndex
from flowmatch.wizard import Outcome, Wizard

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
QUERIES = ("施工许可", "施工許可", "乡镇企业", "环境影响评价", "construction permit", "F22", "联合验收", "营业执照")


def _ruleset() -> tuple[RuleSet, str]:
    try:
        sys.path.insert(0, str(HERE))
        import packaged  # the suite's loader: falls back to a scratch copy while data is in flux

        rs, note = packaged.ruleset()
        return rs, note
    except ImportError:
        return load_ruleset(cache=False), ""


def _rule_bits(rs: RuleSet, space: Space) -> dict[str, int]:
    conds = {sid: s.when for sid, s in rs.situations.items()}
    conds.update({nid: n.when for nid, n in rs.not_applicable.items()})
    return {rid: c.bits(space.leaf_bits, space.full) for rid, c in conds.items()}


def _consistent(space: Space, answers: Mapping[str, str]) -> int:
    out = space.full
    for attribute, value in answers.items():
        out &= space.leaf_bits(attribute, frozenset([value]))
    return out


def _depths(
    paths: Iterable[tuple[Mapping[str, str], int]], space: Space, bits: Mapping[str, int]
) -> dict[str, list[tuple[int, int]]]:
    """rule -> [(questions, number of complete profiles reaching it that way)]."""
    out: dict[str, list[tuple[int, int]]] = {}
    for answers, depth in paths:
        cons = _consistent(space, answers)
        for rid, b in bits.items():
            count = (b & cons).bit_count()
            if count:
                out.setdefault(rid, []).append((depth, count))
    return out


def _wizard_paths(wizard: Wizard) -> list[tuple[dict[str, str], int]]:
    out = []
    for answers, outcome in wizard.paths():
        assert isinstance(outcome, Outcome)
        out.append((answers, len(answers)))
    return out


def _fixed_paths(rs: RuleSet) -> list[tuple[dict[str, str], int]]:
    return [(dict(n.assignment), len(n.assignment)) for n in matcher_for(rs).nodes() if n.attribute is None]


def _asked_when_form(rs: RuleSet, space: Space, bits: Mapping[str, int]) -> dict[str, list[tuple[int, int]]]:
    """Questions shown by a form that honours ``asked_when`` (bitsets: no per-profile loop)."""
    shown = {
        a: (attr.asked_when.bits(space.leaf_bits, space.full) if attr.asked_when is not None else space.full)
        for a, attr in rs.attributes.items()
    }
    out: dict[str, list[tuple[int, int]]] = {}
    for rid, b in bits.items():
        # number of questions = sum over attributes of [shown]; group by that count
        counts: dict[int, int] = {}
        for k in range(len(rs.attributes) + 1):
            counts[k] = 0
        # dynamic programming over attributes on bitsets: layer[k] = profiles with k questions so far
        layers = {0: b}
        for mask in shown.values():
            nxt: dict[int, int] = {}
            for k, members in layers.items():
                yes, no = members & mask, members & ~mask
                if no:
                    nxt[k] = nxt.get(k, 0) | no
                if yes:
                    nxt[k + 1] = nxt.get(k + 1, 0) | yes
            layers = nxt
        out[rid] = [(k, m.bit_count()) for k, m in sorted(layers.items()) if m]
    return out


def _stats(rows: list[tuple[int, int]]) -> tuple[float, int]:
    total = sum(c for _, c in rows)
    return sum(d * c for d, c in rows) / total, max(d for d, _ in rows)


def _median_us(fn: Any, items: list[Any], repeats: int) -> float:
    samples = []
    for _ in range(repeats):
        start = time.perf_counter_ns()
        for item in items:
            fn(item)
        samples.append((time.perf_counter_ns() - start) / len(items) / 1e3)
    return statistics.median(samples)


def measure(quick: bool = False) -> dict[str, Any]:
    rs, note = _ruleset()
    space = Space(rs)
    bits = _rule_bits(rs, space)
    repeats = 3 if quick else 7

    solve_ms = []
    for _ in range(1 if quick else 3):
        start = time.perf_counter()
        wizard = Wizard(rs)
        solve_ms.append((time.perf_counter() - start) * 1e3)
    greedy = Wizard(rs, budget=1)
    columns = {
        "wizard": _depths(_wizard_paths(wizard), space, bits),
        "greedy": _depths(_wizard_paths(greedy), space, bits),
        "fixed_order": _depths(_fixed_paths(rs), space, bits),
        "form_asked_when": _asked_when_form(rs, space, bits),
    }
    full = len(rs.attributes)
    situations = []
    for sid, sit in rs.situations.items():
        row: dict[str, Any] = {"situation": sid, "name": sit.name, "flowchart": sit.flowchart}
        for name, table in columns.items():
            avg, worst = _stats(table[sid])
            row[name] = {"average": round(avg, 3), "worst": worst}
        row["full_form"] = {"average": full, "worst": full}
        situations.append(row)

    def summary(name: str) -> dict[str, float]:
        if name == "full_form":
            return {"average": float(full), "worst": float(full), "expected": float(full)}
        table = columns[name]
        avg = statistics.mean(r[name]["average"] for r in situations)
        worst = max(r[name]["worst"] for r in situations)
        total = sum(wizard.weights.values())
        expected = sum(wizard.weights[rid] * _stats(rows)[0] for rid, rows in table.items()) / total
        return {"average": round(avg, 3), "worst": float(worst), "expected": round(expected, 3)}

    names = ("wizard", "greedy", "fixed_order", "form_asked_when", "full_form")
    totals = {name: summary(name) for name in names}

    steps = [answers for answers, _ in _wizard_paths(wizard)]
    prefixes = [dict(list(a.items())[:k]) for a in steps for k in range(len(a) + 1)]
    next_us = _median_us(wizard.next, prefixes, repeats)
    start = time.perf_counter()
    index = SearchIndex(rs)
    index_ms = (time.perf_counter() - start) * 1e3
    search_us = _median_us(index.search, list(QUERIES), repeats)
    return {
        "ruleset": rs.name,
        "note": note,
        "attributes": full,
        "combinations": space.size,
        "situations": situations,
        "summary": totals,
        "timing": {
            "wizard_solve_ms": round(statistics.median(solve_ms), 1),
            "next_question_us": round(next_us, 1),
            "search_index_ms": round(index_ms, 1),
            "search_query_us": round(search_us, 1),
            "next_question_calls": len(prefixes),
            "queries": list(QUERIES),
        },
    }


def figures(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Rows for benchmarks/run.py."""
    s = data["summary"]
    t = data["timing"]
    wiz, form = s["wizard"], s["full_form"]
    return [
        {
            "figure": "questions to reach a situation, average of 33 (wizard vs full form)",
            "value": wiz["average"],
            "unit": "questions",
            "peer": "full form",
            "peer_value": form["average"],
            "ratio": round(form["average"] / wiz["average"], 3),
            "target": "< full form",
            "met": wiz["average"] < form["average"],
        },
        {
            "figure": "questions to reach a situation, worst case (wizard vs full form)",
            "value": wiz["worst"],
            "unit": "questions",
            "peer": "full form",
            "peer_value": form["worst"],
            "target": "<= full form",
            "met": wiz["worst"] <= form["worst"],
        },
        {
            "figure": "questions, average of 33 (wizard vs fixed asking order)",
            "value": wiz["average"],
            "unit": "questions",
            "peer": "fixed order",
            "peer_value": s["fixed_order"]["average"],
            "target": "<= fixed order",
            "met": wiz["average"] <= s["fixed_order"]["average"] + 1e-9,
        },
        {
            "figure": "questions, average of 33 (wizard vs greedy information gain)",
            "value": wiz["average"],
            "unit": "questions",
            "peer": "greedy",
            "peer_value": s["greedy"]["average"],
            "target": "<= greedy",
            "met": wiz["average"] <= s["greedy"]["average"] + 1e-9,
        },
        {"figure": "wizard solve, once per rule-set", "value": t["wizard_solve_ms"], "unit": "ms"},
        {"figure": "next_question (any state of the tree)", "value": t["next_question_us"], "unit": "µs"},
        {"figure": "search: index build, once per rule-set", "value": t["search_index_ms"], "unit": "ms"},
        {"figure": "search: one query (median of 8 queries)", "value": t["search_query_us"], "unit": "µs"},
    ]


def table(data: Mapping[str, Any]) -> str:
    names = ("wizard", "greedy", "fixed_order", "form_asked_when", "full_form")
    head = ["situation", "flowchart", *(f"{n} avg/worst" for n in names)]
    rows = [head]
    for r in data["situations"]:
        rows.append([r["situation"], r["flowchart"], *(f"{r[n]['average']:.2f} / {r[n]['worst']}" for n in names)])
    s = data["summary"]
    rows.append(["average of 33", "", *(f"{s[n]['average']:.2f} / {s[n]['worst']:.0f}" for n in names)])
    rows.append(["expected (weights)", "", *(f"{s[n]['expected']:.2f}" for n in names)])
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(head))]
    lines = ["  ".join(str(c).ljust(widths[i]) for i, c in enumerate(row)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    t = data["timing"]
    lines.append("")
    lines.append(
        f"wizard solve {t['wizard_solve_ms']} ms once per rule-set; next_question {t['next_question_us']} µs "
        f"(median over {t['next_question_calls']} calls); search index {t['search_index_ms']} ms, "
        f"one query {t['search_query_us']} µs"
    )
    if data.get("note"):
        lines.append(f"note: {data['note']}")
    return "\n".join(lines)


def run(quick: bool = False) -> list[dict[str, Any]]:
    data = measure(quick)
    _write(data)
    return figures(data)


def _write(data: Mapping[str, Any]) -> None:
    RESULTS.mkdir(exist_ok=True)
    out = {**data, "figures": figures(data)}
    (RESULTS / "wizard.json").write_text(json.dumps(out, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer timing repetitions")
    parser.add_argument("--json", action="store_true", help="print the JSON instead of the table")
    parser.add_argument("--no-write", action="store_true", help="do not write benchmarks/results/wizard.json")
    args = parser.parse_args(argv)
    data = measure(args.quick)
    if not args.no_write:
        _write(data)
    if args.json:
        print(json.dumps({**data, "figures": figures(data)}, ensure_ascii=False, indent=2))
    else:
        print(table(data))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
