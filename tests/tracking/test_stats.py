"""Statistics from real progress: actual vs promised working days, suspended days excluded."""

from __future__ import annotations

import datetime as dt

from flowmatch.tracking import CaseStore

from .conftest import CREDIT, F10

WALK = ("accept", "handle", "review", "approve", "complete")


def test_actual_vs_promised_per_department_and_item(store: CaseStore) -> None:
    number = store.open_case(F10, applicant="x", credit_code=CREDIT, at="2026-03-02", by="w").number
    for event in WALK:
        store.record(number, "land_transfer_contract", event, by="申请人", at="2026-03-02")
    # project (FG05, 发改委, promised 1): ready Mon Mar 2, done Thu Mar 5 = 3 working days: late
    for event in WALK:
        store.record(number, "project", event, by="发改委", at="2026-03-05")
    # joint site survey (LH01, promised 3): ready Mar 2, suspended Mar 3 → resumed Mar 9 (4 working days), done Mar 10
    store.record(number, "joint_site_survey", "accept", by="中心", at="2026-03-02")
    store.record(number, "joint_site_survey", "suspend", by="中心", at="2026-03-03")
    store.record(number, "joint_site_survey", "resume", by="中心", at="2026-03-09")
    for event in ("handle", "review", "approve", "complete"):
        store.record(number, "joint_site_survey", event, by="中心", at="2026-03-10")
    stats = store.stats(since="2026-03-01", until="2026-03-31").to_dict()
    assert stats["tasks"] == 2  # the applicant's land contract is not on the government clock
    items = {row["id"]: row for row in stats["by_item"]}
    assert items["FG05"]["avg_actual_working_days"] == 3 and items["FG05"]["avg_promised_working_days"] == 1
    assert items["FG05"]["late"] == 1 and items["FG05"]["on_time_share"] == 0
    # Mar 2 → Mar 10 is 6 working days, less 4 suspended = 2 ≤ 3: on time
    assert items["LH01"]["avg_actual_working_days"] == 2 and items["LH01"]["late"] == 0
    departments = {row["id"]: row for row in stats["by_department"]}
    assert departments["fgw"]["label"] == "发改委" and departments["fgw"]["count"] == 1
    assert stats["by_flowchart"] == [] and stats["cases"] == 0  # the case is still open
    assert store.stats(since=dt.date(2026, 4, 1)).to_dict()["tasks"] == 0
