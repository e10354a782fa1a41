"""Fixtures of the robustness suite and the end-of-run counts that SECURITY.md quotes.

At the end of a run the counters are printed in the terminal summary and written as JSON to
``$FLOWMATCH_ROBUSTNESS_REPORT`` when that is set (nothing is written outside the run's own
temporary directory otherwise).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from ._support import COUNTS, copy_base


@pytest.fixture()
def base_copy(tmp_path: Path) -> Path:
    """A writable copy of the base rule-set at ``tmp_path/base``."""
    return copy_base(tmp_path)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not COUNTS:
        return
    fuzz = sum(n for kind, n in COUNTS.items() if kind.startswith("fuzz:"))
    terminalreporter.write_sep("-", "robustness counts")
    details = "; ".join(f"{k}: {n}" for k, n in sorted(COUNTS.items()))
    terminalreporter.write_line(f"fuzz examples run: {fuzz}; {details}")
    where = os.environ.get("FLOWMATCH_ROBUSTNESS_REPORT")
    if not where:
        return
    target = Path(where)
    target.write_text(
        json.dumps({"fuzz_examples": fuzz, **dict(sorted(COUNTS.items()))}, indent=2) + "\n", encoding="utf-8"
    )
    terminalreporter.write_line(f"written to {target}")
