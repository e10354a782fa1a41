"""A small, fixed rule-set for the notice tests (materials, render, guide CLI).

It keeps the packaged manifest, attributes and situations (so real profiles match: S10 → F10,
S28 → F22, S32 → F26) but replaces departments, items, materials, the baseline and every
flowchart with a hand-made catalogue whose answers are known: F10 is a ten-step flow with a joint
procedure, a not-counted tender, a commitment-eligible item, 容缺 materials, materials issued in
the flow, a flag-switched step and a completion step.  The other flowcharts are one or two steps.
The tests do not depend on the packaged data, which other people are still filling in.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml

from flowmatch.ruleset import RuleSet, default_rules_path, load_ruleset

DEPARTMENTS = {
    "fgw": {"name": "哈尔滨市发展和改革委员会", "short": "发改委", "name_en": "DRC"},
    "ghj": {"name": "哈尔滨市城乡规划局", "short": "规划局", "name_en": "Planning"},
    "gtj": {"name": "哈尔滨市国土资源局", "short": "国土局", "name_en": "Land"},
    "jw": {"name": "哈尔滨市城乡建设委员会", "short": "建委", "name_en": "Construction"},
    "hbj": {"name": "哈尔滨市环境保护局", "short": "环保局", "name_en": "Environment"},
    "xf": {"name": "哈尔滨市公安消防支队", "short": "消防", "name_en": "Fire"},
    "rfb": {"name": "哈尔滨市人民防空办公室", "short": "人防办", "name_en": "Civil defence"},
    "ylj": {"name": "哈尔滨市园林局", "short": "园林局", "name_en": "Landscaping"},
    "jyzx": {"name": "哈尔滨市公共资源交易中心", "short": "交易中心", "name_en": "Exchange"},
}

MATERIALS: dict[str, dict[str, Any]] = {
    "application_form": {"name": "申请表", "source": "applicant", "original": 1},
    "licence": {
        "name": "营业执照（副本）",
        "source": "applicant",
        "original": 0,
        "copies": 1,
        "condition": "验原件，留存复印件",
    },
    "legal_rep": {"name": "法定代表人身份证明书", "source": "applicant", "deficiency": {"days": 5}},
    "land_contract": {"name": "国有建设用地使用权出让合同", "source": "department", "issuer": "gtj", "copies": 1},
    "filing_record": {"name": "企业投资项目备案确认书", "source": "department", "issuer": "fgw", "copies": 1},
    "land_permit": {"name": "建设用地规划许可证", "source": "department", "issuer": "ghj", "copies": 1},
    "scheme_drawings": {
        "name": "建设工程设计方案（总平面图）",
        "source": "intermediary",
        "original": 3,
        "medium": "paper_and_electronic",
    },
    "scheme_opinion": {"name": "设计方案审查意见", "source": "department", "issuer": "ghj"},
    "works_permit": {"name": "建设工程规划许可证", "source": "department", "issuer": "ghj", "copies": 1},
    "eia_form": {"name": "环境影响报告表", "source": "intermediary", "original": 2},
    "construction_drawings": {
        "name": "施工图设计文件",
        "source": "intermediary",
        "original": 2,
        "deficiency": {"days": 3},
        "note": "加盖出图章",
    },
    "drawing_certificate": {"name": "施工图审查合格书", "source": "department", "issuer": "jw"},
    "bid_notice": {"name": "中标通知书", "source": "department", "issuer": "jyzx", "copies": 1},
    "tree_plan": {
        "name": "树木迁移方案",
        "source": "applicant",
        "when": {"eq": {"removes_trees": True}},
        "condition": "涉及砍伐、迁移城市树木的",
    },
    "completion_report": {"name": "工程竣工验收报告", "source": "applicant", "original": 1},
    "survey_report": {"name": "竣工测量报告", "source": "intermediary", "original": 1},
    "site_map": {"name": "地形图（1:500）", "source": "intermediary", "medium": "electronic"},
}


def _limit(value: float | None, unit: str = "working_day") -> dict[str, Any]:
    return {"value": value, "unit": unit}


ITEMS: dict[str, dict[str, Any]] = {
    "FG05": {
        "name": "企业投资项目备案",
        "name_en": "Filing",
        "department": "fgw",
        "stage": 1,
        "statutory": _limit(None, "on_the_spot"),
        "promised": 1,
        "materials": ["application_form", "licence", "legal_rep"],
        "produces": ["filing_record"],
        "result": "企业投资项目备案确认书",
        "legal_basis": ["《企业投资项目核准和备案管理条例》第三条"],
    },
    "GT04": {
        "name": "建设用地规划许可证核发",
        "name_en": "Land-use permit",
        "department": "ghj",
        "stage": 1,
        "statutory": _limit(20),
        "promised": 5,
        "materials": ["application_form", "licence", "land_contract", "filing_record", "site_map"],
        "produces": ["land_permit"],
        "result": "建设用地规划许可证",
    },
    "GH01": {
        "name": "建设工程设计方案审查",
        "name_en": "Scheme review",
        "department": "ghj",
        "stage": 2,
        "members": ["xf", "rfb", "ylj"],
        "statutory": _limit(20),
        "promised": 5,
        "materials": ["application_form", "filing_record", "scheme_drawings"],
        "produces": ["scheme_opinion"],
    },
    "GH02": {
        "name": "建设工程规划许可证核发",
        "name_en": "Works permit",
        "department": "ghj",
        "stage": 2,
        "statutory": _limit(20),
        "promised": 8,
        "materials": ["application_form", "land_permit", "scheme_opinion", "licence"],
        "produces": ["works_permit"],
        "result": "建设工程规划许可证",
        "fees": [{"name": "城市基础设施配套费", "basis": "哈价联〔2012〕48号", "standard": "按建筑面积每平方米150元"}],
    },
    "HB02": {
        "name": "环境影响报告表审批",
        "name_en": "EIA",
        "department": "hbj",
        "stage": 5,
        "statutory": _limit(30, "day"),
        "promised": 10,
        "materials": ["eia_form", "filing_record"],
        "commitment": {
            "duration": 1,
            "letter": "本单位承诺：\n一、所提交的环境影响报告表内容真实；\n二、严格落实环保措施。",
        },
        "intermediaries": [{"kind": "环境影响评价", "purpose": "编制环境影响报告表", "seals": 1}],
    },
    "ZJ03": {
        "name": "施工招标及中标备案",
        "name_en": "Tender",
        "department": "jyzx",
        "stage": 3,
        "statutory": _limit(20, "day"),
        "promised": 20,
        "counted": False,
        "materials": ["construction_drawings", "works_permit"],
        "produces": ["bid_notice"],
        "intermediaries": [{"kind": "招标代理", "purpose": "组织施工招标", "seals": 1}],
    },
    "ZJ02": {
        "name": "施工图设计文件审查",
        "name_en": "Drawing review",
        "department": "jw",
        "stage": 3,
        "statutory": _limit(15),
        "promised": 10,
        "materials": ["construction_drawings", "works_permit"],
        "produces": ["drawing_certificate"],
        "intermediaries": [{"kind": "施工图审查", "purpose": "施工图技术审查", "seals": 1}],
        "fees": [
            {
                "name": "施工图审查费",
                "basis": "黑价联〔2008〕20号",
                "standard": "按建筑面积计收",
                "administrative": False,
            }
        ],
    },
    "ZJ07": {
        "name": "建筑工程施工许可证核发",
        "name_en": "Construction permit",
        "department": "jw",
        "stage": 3,
        "statutory": _limit(15, "day"),
        "promised": 5,
        "materials": [
            "application_form",
            "works_permit",
            "land_permit",
            "drawing_certificate",
            "bid_notice",
            "legal_rep",
        ],
        "result": "建筑工程施工许可证",
    },
    "YL02": {
        "name": "砍伐、迁移城市树木审批",
        "name_en": "Trees",
        "department": "ylj",
        "stage": 5,
        "statutory": _limit(20),
        "promised": 5,
        "materials": ["application_form", "tree_plan"],
    },
    "LH02": {
        "name": "联合竣工验收",
        "name_en": "Joint acceptance",
        "department": "jw",
        "stage": 4,
        "members": ["ghj", "xf", "rfb"],
        "statutory": _limit(None, "none"),
        "promised": 10,
        "materials": ["completion_report", "survey_report", "works_permit"],
    },
    "OLD1": {
        "name": "项目立项（改革前）",
        "name_en": "Old approval",
        "department": "fgw",
        "stage": 1,
        "statutory": _limit(20),
        "promised": 20,
        "materials": ["application_form", "licence"],
        "fees": [{"name": "旧收费", "basis": "旧文件", "standard": "旧标准"}],
    },
    "OLD2": {
        "name": "规划许可（改革前）",
        "name_en": "Old permit",
        "department": "ghj",
        "stage": 2,
        "statutory": _limit(20),
        "promised": 30,
        "materials": ["application_form", "land_contract"],
    },
    "OLD3": {
        "name": "施工许可（改革前）",
        "name_en": "Old construction",
        "department": "jw",
        "stage": 3,
        "statutory": _limit(15),
        "promised": 11,
        "materials": ["application_form"],
    },
}

F10_STEPS: dict[str, dict[str, Any]] = {
    "filing": {"item": "FG05"},
    "land_permit": {"item": "GT04", "depends_on": ["filing"]},
    "scheme": {"item": "GH01", "depends_on": ["filing"]},
    "eia": {"item": "HB02", "depends_on": ["filing"]},
    "trees": {"item": "YL02", "depends_on": ["scheme"], "when": {"eq": {"removes_trees": True}}},
    "works_permit": {"item": "GH02", "depends_on": ["land_permit", "scheme"]},
    "drawings": {"item": "ZJ02", "depends_on": ["works_permit"]},
    "tender": {"item": "ZJ03", "depends_on": ["works_permit"]},
    "permit": {"item": "ZJ07", "depends_on": ["drawings", "tender", "eia", "trees"]},
    "acceptance": {"item": "LH02", "depends_on": ["permit"]},
}


def write_toy_rules(target: Path) -> Path:
    """Write the toy rule-set into ``target`` (created) and return it."""
    source = default_rules_path()
    target.mkdir(parents=True, exist_ok=True)
    for name in ("ruleset.yaml", "attributes.yaml", "situations.yaml"):
        shutil.copy(source / name, target / name)

    def dump(name: str, data: Any) -> None:
        (target / name).write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")

    dump("departments.yaml", DEPARTMENTS)
    dump("materials.yaml", MATERIALS)
    dump("items.yaml", ITEMS)
    dump("invariants.yaml", {})
    dump(
        "baseline.yaml",
        {
            "name": "改革前通用流程",
            "name_en": "Baseline",
            "source": ["seed003"],
            "steps": {
                "old1": {"item": "OLD1"},
                "old2": {"item": "OLD2", "depends_on": ["old1"]},
                "old3": {"item": "OLD3", "depends_on": ["old2"]},
            },
        },
    )
    situations = yaml.safe_load((source / "situations.yaml").read_text(encoding="utf-8"))
    wanted: dict[str, dict[str, set[str]]] = {}  # flowchart -> step -> variant ids the situations name
    for sit in situations["situations"].values():
        for step, variant in (sit.get("variants") or {}).items():
            wanted.setdefault(sit["flowchart"], {}).setdefault(step, set()).add(variant)
    flows = target / "flowcharts"
    flows.mkdir(exist_ok=True)
    real = {p.stem: yaml.safe_load(p.read_text(encoding="utf-8")) for p in (source / "flowcharts").glob("F*.yaml")}
    for fid, flow in real.items():
        head = {k: flow[k] for k in ("name", "name_en", "category", "source") if k in flow}
        if fid == "F10":
            steps = F10_STEPS
        elif fid == "F26":
            steps = {
                "filing": {"item": "FG05"},
                "works_permit": {"item": "GH02", "depends_on": ["filing"]},
                "permit": {"item": "ZJ07", "depends_on": ["works_permit"]},
            }
        else:
            steps = {"filing": {"item": "FG05"}, "land_permit": {"item": "GT04", "depends_on": ["filing"]}}
        for step, variants in wanted.get(fid, {}).items():
            entry = dict(steps.get(step, {"item": "FG05"}))
            entry["variants"] = {v: {"item": entry["item"]} for v in sorted(variants)}
            steps = {**steps, step: entry}
        dump(f"flowcharts/{fid}.yaml", {**head, "steps": steps})
    return target


def toy_ruleset(target: Path) -> RuleSet:
    return load_ruleset(write_toy_rules(target), cache=False)


F10_PROFILE = {
    "kind": "building",
    "land_nature": "state_owned",
    "investor": "enterprise",
    "acquisition": "tender_auction_listing",
    "regime": "filing",
    "building_use": "commercial_housing",
}


def check_notice_properties(rs: RuleSet, flow: Any, schedule: Any, on_file: tuple[str, ...] = ()) -> Any:
    """The SPEC §7 properties of one flow's consolidated materials and notice context.

    Every material a counted step needs is asked exactly once, unless an ancestor step issues it or
    it is on file; nothing issued in the flow or on file is asked; every date is a working day;
    every step appears.  Returns the context for further checks.
    """
    from flowmatch.calendar import WorkCalendar
    from flowmatch.materials import COMMITMENT_PREFIX, consolidate
    from flowmatch.render import build_context

    cal = WorkCalendar()
    mats = consolidate(flow, rs, schedule=schedule, calendar=cal, on_file=on_file)
    asked_ids = [m.id for m in mats.to_prepare]
    assert len(asked_ids) == len(set(asked_ids)), "a material is asked twice"
    ancestors: dict[str, set[str]] = {}
    for sid, step in flow.steps.items():
        acc: set[str] = set()
        for dep in step.depends_on:
            acc |= {dep} | ancestors[dep]
        ancestors[sid] = acc
    for sid, step in flow.steps.items():
        for mid in step.materials:
            issued_here = any(mid in flow.steps[a].produces for a in ancestors[sid])
            if issued_here:
                assert not any(m.id == mid and sid in m.steps for m in mats.to_prepare), (sid, mid)
            elif mid in on_file:
                assert mid not in asked_ids
            elif step.counted:
                assert asked_ids.count(mid) == 1, (sid, mid)
                assert sid in mats.get(mid).steps
    for m in mats.to_prepare:
        if m.id.startswith(COMMITMENT_PREFIX):
            continue
        assert m.id in rs.materials
        assert m.id not in on_file
    needed = {
        mid
        for sid, step in flow.steps.items()
        for mid in step.materials
        if not any(mid in flow.steps[a].produces for a in ancestors[sid])
    }
    assert {m.id for m in mats.on_file} == set(on_file) & needed
    assert mats.spared == len(set(on_file) & needed)
    ctx = build_context(_matched(rs, flow), schedule, ruleset=rs, on_file=on_file, calendar=cal, pictures="none")
    shown = [s.id for s in ctx["steps"]] + [s.id for s in ctx["completion"]]
    assert sorted(shown) == sorted(flow.steps), "every step appears once"
    for view in ctx["steps"]:
        for day in (view.start, view.end):
            assert day is not None and cal.is_workday(day), (view.id, day)
    for view in ctx["completion"]:
        assert view.start is None and view.end is None
    for m in mats.to_prepare:
        if m.supply_by is not None:
            assert cal.is_workday(m.supply_by)
    if schedule.finish is not None:
        assert cal.is_workday(schedule.finish)
    return ctx


def _matched(rs: RuleSet, flow: Any) -> Any:
    from flowmatch.matcher import MatchResult

    sit = next((sid for sid, s in rs.situations.items() if s.flowchart == flow.id), None)
    return MatchResult(
        "matched",
        situation=sit,
        flowchart=flow.id,
        category=flow.flowchart.category,
        name=rs.situations[sit].name if sit else flow.flowchart.name,
    )
