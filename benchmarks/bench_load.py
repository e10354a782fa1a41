"""Figure 4 — loading the packaged rule-set: cold (YAML parse + validation) vs the content-hash cache.

Cold: ``load_ruleset(cache=False)``.  Warm: ``load_ruleset()`` with ``FLOWMATCH_CACHE_DIR`` set to a
fresh temporary directory, after one priming load.  Also checked, on a scratch copy of the rule-set:
an edited file is never answered from the old cache, and a corrupt cache file (garbage, truncated,
a pickle of something else) is rebuilt silently.
"""

from __future__ import annotations

import contextlib
import io
import os
import pickle
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from timing import Figure, bench_interleaved

from flowmatch.ruleset import default_rules_path, load_ruleset

SECTION = "load"


@contextlib.contextmanager
def cache_dir() -> Iterator[Path]:
    old = os.environ.get("FLOWMATCH_CACHE_DIR")
    with tempfile.TemporaryDirectory(prefix="flowmatch-cache-") as tmp:
        os.environ["FLOWMATCH_CACHE_DIR"] = tmp
        try:
            yield Path(tmp)
        finally:
            if old is None:
                os.environ.pop("FLOWMATCH_CACHE_DIR", None)
            else:
                os.environ["FLOWMATCH_CACHE_DIR"] = old


def _quiet_load(path: Path) -> tuple[object, str]:
    """Load and capture anything printed (the library must print nothing)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rs = load_ruleset(path)
    return rs, out.getvalue() + err.getvalue()


def correctness() -> list[tuple[str, bool, str]]:
    """(check, passed, detail) for the stale and corrupt cache cases."""
    checks = []
    with cache_dir() as cache, tempfile.TemporaryDirectory(prefix="flowmatch-rules-") as tmp:
        rules = Path(tmp) / default_rules_path().name
        shutil.copytree(default_rules_path(), rules)
        first = load_ruleset(rules)
        sid = next(iter(first.situations))
        old_name = first.situations[sid].name
        files = sorted(cache.glob("*.pickle"))
        # stale: edit one situation's name in the copy; the reload must see the edit
        path = rules / "situations.yaml"
        text = path.read_text(encoding="utf-8")
        new_name = old_name + "（已修改）"
        path.write_text(text.replace(f"name: {old_name}", f"name: {new_name}", 1), encoding="utf-8")
        second = load_ruleset(rules)
        seen = second.situations[sid].name
        checks.append(
            (
                "an edited rule file is never answered from the old cache",
                seen == new_name,
                f"{sid}.name after the edit: {seen!r}",
            )
        )
        # and a flowchart file edited too (the cache key covers every file)
        flow = sorted((rules / "flowcharts").glob("*.yaml"))[0]
        flow.write_text(flow.read_text(encoding="utf-8") + "\n# touched\n", encoding="utf-8")
        before = set(cache.glob("*.pickle"))
        load_ruleset(rules)
        after = set(cache.glob("*.pickle"))
        checks.append(
            (
                "a comment-only edit to a flowchart gets a new cache entry",
                len(after - before) == 1,
                f"{len(after - before)} new cache file(s)",
            )
        )
        # corrupt: garbage, truncated, a pickle of something else — each silently rebuilt
        current = max(after, key=lambda p: p.stat().st_mtime_ns)
        good = current.read_bytes()
        for label, payload in (
            ("garbage bytes", b"\x00not a pickle" * 50),
            ("a truncated pickle", good[: len(good) // 3]),
            ("a pickle of another object", pickle.dumps({"hello": "world"})),
        ):
            current.write_bytes(payload)
            try:
                rs, printed = _quiet_load(rules)
                rebuilt = pickle.loads(current.read_bytes())
                ok = type(rs).__name__ == "RuleSet" and not printed and type(rebuilt).__name__ == "RuleSet"
                detail = "loaded, nothing printed, cache file rewritten" if ok else f"printed {printed!r}"
            except Exception as exc:  # the whole point: it must not raise
                ok, detail = False, f"{type(exc).__name__}: {exc}"
            checks.append((f"a corrupt cache ({label}) is rebuilt silently", ok, detail))
        del files
    return checks


def run(quick: bool = False) -> list[Figure]:
    root = default_rules_path()
    with cache_dir():
        load_ruleset(root)  # prime the cache
        t = bench_interleaved(
            {
                "cold": lambda: load_ruleset(root, cache=False),
                "warm": lambda: load_ruleset(root),
            },
            repeats=5 if quick else 11,
        )
    cold, warm = t["cold"], t["warm"]
    share = 100 * warm.median_ns / cold.median_ns
    figures = [
        Figure(
            SECTION,
            "load the packaged rule-set: warm (content-hash cache) vs cold (parse + validate)",
            warm.ms,
            "ms",
            "cold load",
            cold.ms,
            cold.median_ns / warm.median_ns,
            "warm <10% of cold",
            share < 10,
            f"warm is {share:.1f} % of cold; warm = hash every file + unpickle",
        ),
    ]
    for name, ok, detail in correctness():
        figures.append(Figure(SECTION, name, float(ok), "ok", target="yes", met=ok, note=detail))
    return figures
