"""The golden notices kept in ``tests/golden/`` (private: for the tests and their regeneration).

Three representative projects, rendered as Markdown through the one notice pipeline
(:func:`flowmatch.notice.build_notice` and :func:`flowmatch.notice.render`) with fixed start and
generation dates.  Regenerate them from the repository root with
``python -m flowmatch.render --regenerate-golden`` (or ``python -m flowmatch.golden``).
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .notice import Notice
    from .ruleset import RuleSet

GOLDEN: Mapping[str, Mapping[str, Any]] = {
    "F10": {
        "kind": "building",
        "land_nature": "state_owned",
        "investor": "enterprise",
        "acquisition": "tender_auction_listing",
        "regime": "filing",
        "building_use": "commercial_housing",
    },
    "F22": {"kind": "building", "land_nature": "collective", "building_use": "township_enterprise"},
    "F26": {"kind": "pipeline"},
}
GOLDEN_START = dt.date(2026, 3, 2)
GOLDEN_GENERATED = dt.date(2026, 2, 27)
GOLDEN_APPLICANT = "哈尔滨示例建设有限公司"


def golden_name(fid: str) -> str:
    return f"示例项目（{fid}）"


def golden_notice(fid: str, ruleset: RuleSet | None = None) -> Notice:
    """The notice of one golden profile (checked to match its flowchart)."""
    from .calendar import WorkCalendar
    from .errors import InputError
    from .notice import build_notice

    notice = build_notice(
        GOLDEN[fid],
        ruleset=ruleset,
        start=GOLDEN_START,
        calendar=WorkCalendar(),
        name=golden_name(fid),
        applicant=GOLDEN_APPLICANT,
        generated=GOLDEN_GENERATED,
    )
    if notice.flowchart.id != fid:
        raise InputError(f"golden profile for {fid} does not match it: {notice.flowchart.id}")
    return notice


def golden_notices(ruleset: RuleSet | None = None) -> dict[str, str]:
    """The Markdown notices kept in ``tests/golden/``."""
    from .notice import render

    out = {}
    for fid in GOLDEN:
        text = render(golden_notice(fid, ruleset), "md")
        assert isinstance(text, str)
        out[fid] = text
    return out


def main(argv: Sequence[str]) -> int:
    from .fileio import write_atomic

    if list(argv) != ["--regenerate-golden"]:
        print("usage: python -m flowmatch.render --regenerate-golden", file=sys.stderr)
        return 2
    target = Path.cwd() / "tests" / "golden"
    if not target.is_dir():
        print(f"error: run from the repository root ({target} not found)", file=sys.stderr)
        return 2
    for fid, text in golden_notices().items():
        path = target / f"{fid}.md"
        write_atomic(path, text, force=True)  # regenerating means replacing
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
