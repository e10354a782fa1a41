"""Helpers shared by the robustness tests and their conftest (kept out of conftest.py so that
tests import them explicitly)."""

from __future__ import annotations

import os
import shutil
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings

BASE = Path(__file__).parent / "base"

#: What the suite tried, by kind ("broken_ruleset", "fuzz:matcher", ...). Printed at the end.
COUNTS: Counter[str] = Counter()


def count(kind: str, n: int = 1) -> None:
    COUNTS[kind] += n


def fuzz_budget(examples: int) -> int:
    """``examples`` scaled by ``$FLOWMATCH_FUZZ_SCALE`` (default 1): CI keeps the default budget,
    a long local run can set e.g. ``FLOWMATCH_FUZZ_SCALE=20``."""
    scale = float(os.environ.get("FLOWMATCH_FUZZ_SCALE", "1"))
    return max(1, int(examples * scale))


def fuzz(examples: int) -> settings:
    """The suite's hypothesis settings: a fixed budget, derandomized, no example database (the
    same examples on every CI run), no deadline (CI machines vary; tests never assert times)."""
    return settings(
        max_examples=fuzz_budget(examples),
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
            HealthCheck.large_base_example,
        ],
    )


def copy_base(target_parent: Path, name: str = "base") -> Path:
    """A writable copy of the base rule-set; error messages name it ``base/<file>``."""
    target = target_parent / name
    shutil.copytree(BASE, target)
    return target


def apply_edits(root: Path, edits: Sequence[Mapping[str, Any]]) -> None:
    """Apply the edits of one broken case to a copy of the base rule-set.

    Each edit names a ``file`` (relative to the rule-set) and exactly one of:

    * ``text`` — replace the whole file (``encoding`` defaults to utf-8; e.g. ``gbk``);
    * ``old`` + ``new`` — replace one snippet, which must occur exactly once;
    * ``delete: true`` — remove the file;
    * ``hex`` — write these raw bytes;
    * ``repeat: {head, unit, count, tail}`` — write head + unit * count + tail (big inputs); with
      ``numbered: true`` the unit is formatted with ``i`` = 1..count and ``next`` = i + 1.
    """
    for edit in edits:
        path = root / edit["file"]
        if "text" in edit:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(edit["text"].encode(edit.get("encoding", "utf-8")))
        elif "old" in edit:
            text = path.read_text(encoding="utf-8")
            found = text.count(edit["old"])
            assert found == 1, f"{edit['file']}: snippet {edit['old']!r} occurs {found} times in the base rule-set"
            path.write_text(text.replace(edit["old"], edit["new"]), encoding="utf-8")
        elif edit.get("delete"):
            path.unlink()
        elif "hex" in edit:
            path.write_bytes(bytes.fromhex(edit["hex"]))
        elif "repeat" in edit:
            spec = edit["repeat"]
            if spec.get("numbered"):
                body = "".join(spec["unit"].format(i=i, next=i + 1) for i in range(1, int(spec["count"]) + 1))
            else:
                body = spec["unit"] * int(spec["count"])
            text = spec.get("head", "") + body + spec.get("tail", "")
            path.write_text(text, encoding="utf-8")
        else:  # pragma: no cover - a mistake in broken_cases.yaml
            raise AssertionError(f"edit without an action: {edit}")
