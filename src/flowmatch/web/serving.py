"""The app of each ``flowmatch serve`` worker, built from the settings the command puts in the
environment (uvicorn starts workers as fresh processes and imports this factory in each)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from .app import FlowmatchApp, create_app

ENV = "FLOWMATCH_SERVE"


def app_from_env() -> FlowmatchApp:
    from ..calendar import make_calendar
    from ..cli import _load

    cfg = json.loads(os.environ[ENV])
    rules = Path(cfg["rules"]) if cfg.get("rules") else None
    cal_file = Path(cfg["calendar_file"]) if cfg.get("calendar_file") else None
    cal = make_calendar(cal_file, assume_weekends=cfg["assume_weekends"], strict=cfg["strict_calendar"])
    return create_app(
        _load(rules), allowed_hosts=cfg["hosts"], calendar=cal, db=cfg.get("db"), track_limit=cfg.get("track_limit")
    )
