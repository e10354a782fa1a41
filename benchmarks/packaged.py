"""The rule-set under test and the profiles the match benchmarks feed it.

The suite runs on whatever the packaged rule-set holds.  While the data is still being written a
rule-set may fail validation only because flowcharts are not filled in yet (a situation's step
variant naming a step that does not exist); the match benchmarks need only attributes and
situations, so they then run on a scratch copy with those variants removed, and say so.
"""

from __future__ import annotations

import itertools
import random
import shutil
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from flowmatch.errors import RuleSetError
from flowmatch.matcher import Matcher, matcher_for
from flowmatch.ruleset import RuleSet, default_rules_path, load_ruleset

_SCRATCH: list[tempfile.TemporaryDirectory[str]] = []


@lru_cache(maxsize=1)
def ruleset() -> tuple[RuleSet, str]:
    """The packaged rule-set, and a note ('' if it loaded as shipped)."""
    try:
        return load_ruleset(cache=False), ""
    except RuleSetError as exc:
        first = str(exc).splitlines()[1] if len(str(exc).splitlines()) > 1 else str(exc)
        scratch = tempfile.TemporaryDirectory(prefix="flowmatch-bench-")
        _SCRATCH.append(scratch)
        target = Path(scratch.name) / default_rules_path().name
        shutil.copytree(default_rules_path(), target)
        path = target / "situations.yaml"
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for sit in (data.get("situations") or {}).values():
            if isinstance(sit, dict):
                sit.pop("variants", None)
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
        try:
            rs = load_ruleset(target, cache=False)
        except RuleSetError as again:
            raise RuntimeError(f"the packaged rule-set does not load: {again}") from None
        return rs, (
            f"packaged rule-set does not validate yet ({first.strip()[:120]}); matched on a copy without step variants"
        )


def matcher() -> Matcher:
    return matcher_for(ruleset()[0])


def attribute_space(rs: RuleSet) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    """The attribute order and every complete profile as a value tuple (64,512 for Harbin 2014)."""
    order = tuple(rs.attributes)
    space = list(itertools.product(*(tuple(rs.attributes[a].values) for a in order)))
    return order, space


@lru_cache(maxsize=1)
def answers() -> tuple[tuple[str, ...], dict[tuple[str, ...], str]]:
    """flowmatch's answer (situation or not-applicable rule id) for every complete profile."""
    rs, _ = ruleset()
    m = matcher()
    order, space = attribute_space(rs)
    out: dict[tuple[str, ...], str] = {}
    for values in space:
        r = m.match(dict(zip(order, values, strict=True)))
        if r.status not in ("matched", "not_applicable"):
            raise RuntimeError(f"complete profile {values} gives {r.status}")
        out[values] = r.situation or r.rule or ""
    return order, out


def stratified_profiles(per_rule: int = 8, seed: int = 7) -> list[dict[str, Any]]:
    """Complete profiles, ``per_rule`` for each situation and not-applicable rule (seeded)."""
    order, table = answers()
    by_rule: dict[str, list[tuple[str, ...]]] = {}
    for values, rid in table.items():
        by_rule.setdefault(rid, []).append(values)
    rng = random.Random(seed)
    out = []
    for rid in sorted(by_rule):
        pool = by_rule[rid]
        for values in rng.sample(pool, min(per_rule, len(pool))):
            out.append(dict(zip(order, values, strict=True)))
    rng.shuffle(out)
    return out


def asked_profile(rs: RuleSet, values: dict[str, str]) -> dict[str, str]:
    """Only the answers a questionnaire would ask for (``asked_when`` holds)."""
    out: dict[str, str] = {}
    for aid, attr in rs.attributes.items():
        if attr.asked_when is None or attr.asked_when.holds(out) is True:
            out[aid] = values[aid]
    return out


def _synthetic(rs: RuleSet, steps: int = 25, seed: int = 25) -> RuleSet:
    """A scratch copy of ``rs`` whose F01 is a realistic synthetic ``steps``-step flowchart (four
    pre-construction stages with joint steps, a not-counted tender, two completion steps), for
    runs made before the packaged flowcharts are filled in."""
    scratch = tempfile.TemporaryDirectory(prefix="flowmatch-bench-flow-")
    _SCRATCH.append(scratch)
    target = Path(scratch.name) / rs.path.name
    shutil.copytree(rs.path, target)
    department = next(iter(rs.departments), None)
    if department is None:
        department = "bench"
        (target / "departments.yaml").write_text(
            "bench: {name: 基准部门, short: 基准, name_en: Benchmark department}\n", encoding="utf-8"
        )
    rng = random.Random(seed)
    source = next(iter(rs.manifest.sources))
    items: dict[str, Any] = {}
    flow: dict[str, Any] = {}
    stages = [1] * 3 + [2] * 6 + [3] * 8 + [4 - 1] * (steps - 3 - 6 - 8 - 2) + [4] * 2
    for i, stage in enumerate(stages):
        sid = f"s{i + 1:02d}"
        items[f"bench_{sid}"] = {
            "name": f"基准事项{i + 1}",
            "name_en": f"Benchmark item {i + 1}",
            "department": department,
            "stage": stage,
            "statutory": {"value": 20, "unit": "working_day"},
            "promised": rng.choice([1, 2, 3, 5, 5, 7, 10, 15, 20]),
            "counted": i != 5,
            "source": [source],
        }
        earlier = [
            f"s{j + 1:02d}" for j in range(i) if stages[j] < stage or (stages[j] == stage and rng.random() < 0.2)
        ]
        deps = sorted(rng.sample(earlier, min(len(earlier), rng.randint(1, 3)))) if earlier else []
        flow[sid] = {"item": f"bench_{sid}", "depends_on": deps}
    (target / "items.yaml").write_text(yaml.safe_dump(items, allow_unicode=True, sort_keys=False), encoding="utf-8")
    f01 = yaml.safe_load((target / "flowcharts" / "F01.yaml").read_text(encoding="utf-8"))
    f01["steps"] = flow
    (target / "flowcharts" / "F01.yaml").write_text(
        yaml.safe_dump(f01, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    return load_ruleset(target, cache=False)


@lru_cache(maxsize=1)
def scheduling() -> tuple[RuleSet, list[str], str]:
    """The rule-set to schedule, the flowcharts that have steps, and a note."""
    rs, note = ruleset()
    fids = [fid for fid, f in rs.flowcharts.items() if f.steps]
    if fids:
        return rs, fids, note
    synth = _synthetic(rs)
    return synth, ["F01"], "packaged flowcharts have no steps yet: a synthetic 25-step F01 stands in"
