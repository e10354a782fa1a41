"""One-off: the first draft of ``rules/harbin-2019`` derived from ``rules/harbin-2014``.

The 2019 rule-set's YAML is the source of truth; this script records how its first draft was made
(every change it applies is one entry of ``rules/harbin-2019/itemmap.yaml``), so a reviewer can
see that the derived flows follow the item map and nothing else.  Re-running it overwrites the
YAML (hand edits would be lost): ``python tools/derive_harbin_2019.py``.
"""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
OLD = ROOT / "rules" / "harbin-2014"
NEW = ROOT / "rules" / "harbin-2019"
HERE = Path(__file__).resolve().parent

ABOLISHED = {"ZJ01", "ZJ04", "FC01"}
MERGED = {
    "GT02": "GT01",
    "XF01": "ZJ02",
    "XF02": "ZJ02",
    "RF02": "ZJ02",
    "QX01": "ZJ02",
    "ZJ05": "ZJ07",
    "ZJ06": "ZJ07",
}
COMMITMENT = {"GT10", "GT12", "SW01", "CG03", "HB03"}
REGION_ASSESSED = {"GT10", "GT12", "DZ01", "SW02"}
DEPT = {"ghj": "zrzy", "gtj": "zrzy"}
F07_DROPPED = {"LH01"}  # 备案 projects on their own allocated land skip the stage-1 site survey (harbin2019)
SLR_REGION: dict[str, Any] = {
    "eq": {
        "kind": "building",
        "land_nature": "state_owned",
        "investor": "enterprise",
        "regime": "filing",
        "building_use": "industrial",
    }
}
SLR_ACQ: dict[str, Any] = {"in": {"acquisition": ["tender_auction_listing", "transferred_own"]}}


def load(name: str) -> Any:
    return yaml.safe_load((OLD / name).read_text(encoding="utf-8"))


def dump(path: Path, data: Any, header: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=110, default_flow_style=None)
    path.write_text(header.rstrip() + "\n" + text, encoding="utf-8")


def dept(d: str | None) -> str | None:
    return DEPT.get(d, d) if d else d


def union(*lists: list[str], drop: set[str] = frozenset()) -> list[str]:  # type: ignore[assignment]
    out: list[str] = []
    for lst in lists:
        for x in lst:
            if x not in out and x not in drop:
                out.append(x)
    return out


def by_kind(intermediaries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A merged item engages each kind of intermediary once."""
    seen: dict[str, dict[str, Any]] = {}
    for m in intermediaries:
        seen.setdefault(m["kind"], m)
    return list(seen.values())


def items() -> dict[str, Any]:
    old = load("items.yaml")
    new: dict[str, Any] = {}
    for iid, item in old.items():
        if iid in ABOLISHED or iid in MERGED:
            continue
        item = copy.deepcopy(item)
        item["department"] = dept(item["department"])
        if "members" in item:
            item["members"] = [dept(m) for m in item["members"]]
        new[iid] = item
    gt01, gt02 = old["GT01"], old["GT02"]
    new["GT01"].update(
        name="建设项目用地预审与选址意见书核发",
        name_en="Land-use pre-review and site-selection opinion (merged)",
        materials=union(gt01["materials"], gt02["materials"], drop={"site_selection_opinion"}),
        produces=union(gt01["produces"], gt02["produces"]),
        legal_basis=union(
            gt01.get("legal_basis", []),
            gt02.get("legal_basis", []),
            ["自然资源部关于以“多规合一”为基础推进规划用地“多审合一、多证合一”改革的通知（自然资规〔2019〕2号）"],
        ),
        intermediaries=by_kind(gt01.get("intermediaries", []) + gt02.get("intermediaries", [])),
        fees=gt01.get("fees", []) + gt02.get("fees", []),
        source=["zrzy2019", "harbin2019"],
        note="2019年起建设项目选址意见书与用地预审合并办理，核发《建设项目用地预审与选址意见书》",
    )
    merged_zj02 = [old[i] for i in ("ZJ02", "XF01", "XF02", "RF02", "QX01")]
    products = {p for i in ("XF01", "XF02", "RF02", "QX01") for p in old[i]["produces"]}
    new["ZJ02"].update(
        name="施工图设计文件联合审查（含消防、人防、防雷等技术审查）",
        name_en="Joint construction-drawing review (fire, civil defence, lightning folded in)",
        members=union(old["ZJ02"].get("members", []), ["xf", "rfb", "qxj"]),
        materials=union(
            *[m["materials"] for m in merged_zj02],
            # the civil-defence approval reaches the joint review from 人防 itself (a member), not from the applicant
            drop=products | {"drawing_review_certificate", "design_contract_filing", "civil_defence_approval"},
        ),
        produces=union(*[m["produces"] for m in merged_zj02]),
        commitment=None,
        source=["guoban2019", "seed001", "harbin2019"],
        note="国办发〔2019〕11号：将消防、人防、技防等技术审查并入施工图设计文件审查，相关部门不再进行技术审查；"
        "平房区2018年方案已提出“整合规划、建设、消防等审查环节，全面推进施工图联合审查”（种子文件001）",
    )
    new["ZJ02"] = {k: v for k, v in new["ZJ02"].items() if v is not None}
    merged_zj07 = [old[i] for i in ("ZJ07", "ZJ05", "ZJ06")]
    new["ZJ07"].update(
        members=["zjz", "ajz"],
        materials=union(
            *[m["materials"] for m in merged_zj07],
            drop={"quality_supervision_registration", "safety_supervision_filing", "funds_proof"},
        ),
        produces=union(*[m["produces"] for m in merged_zj07]),
        intermediaries=by_kind([x for m in merged_zj07 for x in m.get("intermediaries", [])]),
        fees=[x for m in merged_zj07 for x in m.get("fees", [])],
        source=["harbin2019", "guoban2019"],
        provenance={**old["ZJ07"].get("provenance", {}), "members": ["guoban2019", "reconstruction"]},
        note="2019年起质量监督登记、安全监督备案并入施工许可一并办理；取消建设资金已落实证明（哈尔滨市2019年实施方案）",
    )
    for iid in COMMITMENT:
        item = new[iid]
        item["promised"] = 0
        letter = (item.get("commitment") or {}).get("letter", "告知承诺书")
        item["commitment"] = {"duration": 0, "letter": letter}
        item["source"] = union(item.get("source", []), ["guoban2019", "seed004"])
        item["note"] = (
            (item.get("note") or "") + "；2019年起实行告知承诺制，签署承诺书当场办结，"
            "施工许可后由主管部门核查承诺事项（告知承诺事项核查）"
        ).lstrip("；")
    new["HC01"] = {
        "name": "告知承诺事项核查（事中事后监管）",
        "name_en": "Verification of items approved on commitment",
        "department": "jw",
        "stage": 4,
        "statutory": {"unit": "none"},
        "promised": 0,
        "counted": False,
        "legal_basis": ["国务院办公厅关于全面开展工程建设项目审批制度改革的实施意见（国办发〔2019〕11号）"],
        "result": "核查意见（承诺不实的依法撤销审批并纳入信用记录）",
        "source": ["guoban2019", "seed004"],
        "provenance": {"promised": ["reconstruction"]},
        "note": "以告知承诺方式办理的事项，在施工期间和竣工验收前由原审批部门核查；不计入审批时限",
    }
    return new


def step_when(*conds: Any) -> Any:
    real = [c for c in conds if c]
    return real[0] if len(real) == 1 else {"all": real}


def flowchart(fid: str, flow: dict[str, Any]) -> dict[str, Any]:
    flow = copy.deepcopy(flow)
    steps: dict[str, Any] = flow["steps"]
    by_item = {s["item"]: sid for sid, s in steps.items()}
    drop: dict[str, str | None] = {}  # step -> step it merged into (or None)
    for sid, s in steps.items():
        item = s["item"]
        if item in ABOLISHED or (fid == "F07" and item in F07_DROPPED):
            drop[sid] = None
        elif item in MERGED:
            target = by_item.get(MERGED[item])
            if target is not None:
                drop[sid] = target
            else:
                s["item"] = MERGED[item]
        for var in s.get("variants", {}).values():
            var["item"] = MERGED.get(var["item"], var["item"])

    def live_deps(sid: str, seen: set[str]) -> list[str]:
        out: list[str] = []
        for d in steps[sid].get("depends_on", []):
            if d in drop:
                if d not in seen:
                    seen.add(d)
                    out.extend(x for x in live_deps(d, seen) if x not in out)
            elif d not in out:
                out.append(d)
        return out

    def live_deps_of(dep: str) -> list[str]:
        return live_deps(dep, set()) if dep in drop else [dep]

    descendants: dict[str, set[str]] = {}

    def below(sid: str) -> set[str]:
        if sid not in descendants:
            out: set[str] = set()
            for other, st in steps.items():
                if sid in st.get("depends_on", []):
                    out |= {other} | below(other)
            descendants[sid] = out
        return descendants[sid]

    for sid, target in drop.items():
        # the target inherits the prerequisites of an always-present step, never one of its own successors;
        # a conditional step's prerequisites (e.g. the civil-defence approval before the basement's drawing
        # review) bind the joint review only when the condition holds, which one step cannot say: left out
        if target is not None and steps[sid].get("when") is None:
            extra = [d for d in live_deps(sid, set()) if d != target and d not in below(target)]
            steps[target]["depends_on"] = union(steps[target].get("depends_on", []), extra)
    for sid, s in steps.items():
        if sid in drop:
            continue
        s["depends_on"] = [d for d in live_deps(sid, set()) if d != sid]
        if "department" in s:
            s["department"] = dept(s["department"])
        for var in s.get("variants", {}).values():
            if "depends_on" in var:
                var["depends_on"] = union(*[live_deps_of(d) for d in var["depends_on"]])
    for sid in drop:
        del steps[sid]
    committed = []
    for sid, s in steps.items():
        if s["item"] in COMMITMENT:
            s["duration"] = 0
            s.setdefault("provenance", {})["duration"] = ["guoban2019"]
            committed.append(sid)
        if s["item"] in REGION_ASSESSED and "in_assessed_area" not in str(s.get("when")):
            s["when"] = step_when(s.get("when"), {"not": {"eq": {"in_assessed_area": True}}})
        if fid in ("F10", "F11", "F12", "F13") and s["item"] in ("GH01", "GH07"):
            s["when"] = step_when(s.get("when"), {"not": {"eq": {"land_with_scheme": True}}})
            s["note"] = ((s.get("note") or "") + "；带方案出让的土地不再单独审查设计方案").lstrip("；")
        s["members"] = [dept(m) for m in s.get("members", [])]
        if not s["members"]:
            del s["members"]
        if not s["depends_on"]:
            s["depends_on"] = []
    if fid == "F26":  # 一家牵头: the stage-1 lead receives the pipeline project's filing (reconstruction)
        steps["project"]["members"] = ["zrzy"]
        steps["project"].setdefault("provenance", {})["members"] = ["shifen2019", "reconstruction"]
        steps["project"]["note"] = (
            steps["project"].get("note") or ""
        ) + "；第一阶段由自然资源和规划局牵头受理，发改部门并联备案"
    if committed:
        permit = next((sid for sid, s in steps.items() if s["item"] in ("ZJ07", "GT13", "CG01")), None)
        steps["commitment_verification"] = {
            "item": "HC01",
            "depends_on": committed + ([permit] if permit and permit not in committed else []),
            "note": "核查以告知承诺方式办理的：" + "、".join(committed),
        }
        if flow.get("category") == "collective_land":  # county level, like the rest of these flows
            steps["commitment_verification"]["department"] = "xjs"
            steps["commitment_verification"]["provenance"] = {"department": ["reconstruction"]}
    flow["source"] = union(flow["source"], ["harbin2019", "reconstruction"])
    return flow


SLR_FLOW = {
    "name": "社会投资简易低风险工程（工业仓储）",
    "name_en": "Social investment, simple low-risk works (industrial and warehousing)",
    "category": "simple_low_risk",
    "source": ["guoban2020", "beijing_slr", "reconstruction"],
    "description": "企业投资、备案类、已取得国有建设用地的小型工业仓储项目："
    "设计方案与施工许可合并、以告知承诺代替施工图审查，"
    "竣工联合验收。适用范围与各环节时限依国办发〔2020〕24号及北京等地简易低风险规定重建，哈尔滨的具体规定未见公开。",
    "steps": {
        "land_transfer_contract": {
            "item": "GT06",
            "depends_on": [],
            "note": "已出让自有土地的提交原出让合同和国有土地使用证",
        },
        "project": {"item": "FG05", "depends_on": [], "note": "企业投资项目备案，当场办结"},
        "land_use_permit": {"item": "GT04", "depends_on": ["land_transfer_contract", "project"]},
        "works_planning_permit": {
            "item": "GH02",
            "depends_on": ["land_use_permit"],
            "note": "工程建设许可与施工许可阶段合并办理",
        },
        "construction_waste": {
            "item": "CG03",
            "depends_on": ["works_planning_permit"],
            "duration": 0,
            "provenance": {"duration": ["guoban2019"]},
        },
        "works_tender": {
            "item": "ZJ03",
            "depends_on": ["works_planning_permit"],
            "name": "施工单位发包（简易低风险项目可直接发包）",
        },
        "construction_permit": {
            "item": "ZJ07",
            "depends_on": ["works_planning_permit", "works_tender", "construction_waste"],
        },
        "commitment_verification": {
            "item": "HC01",
            "depends_on": ["construction_waste", "construction_permit"],
            "note": "核查以告知承诺方式办理的：construction_waste",
        },
        "joint_completion_acceptance": {"item": "LH02", "depends_on": ["construction_permit"]},
        "completion_filing": {"item": "ZJ10", "depends_on": ["joint_completion_acceptance"]},
        "first_registration": {"item": "BD01", "depends_on": ["completion_filing"]},
    },
}


MAP_SOURCES = {
    "ZJ01": ["harbin2019"],
    "ZJ04": ["harbin2019"],
    "FC01": ["harbin2019"],
    "GT02": ["zrzy2019"],
    "XF01": ["guoban2019", "seed001"],
    "XF02": ["guoban2019", "seed001"],
    "RF02": ["guoban2019", "seed001"],
    "QX01": ["guoban2019", "seed001"],
    "ZJ05": ["guoban2019", "reconstruction"],
    "ZJ06": ["guoban2019", "reconstruction"],
}
MAP_NOTES = {
    "ZJ01": "哈尔滨市2019年实施方案取消勘察设计合同备案",
    "ZJ04": "哈尔滨市2019年实施方案取消施工合同备案",
    "FC01": "哈尔滨市2019年实施方案取消保障性住房审查意见书作为前置要件",
    "GT02": "选址意见书与用地预审合并办理（自然资规〔2019〕2号）",
    "XF01": "消防设计技术审查并入施工图联合审查",
    "XF02": "消防设计技术审查并入施工图联合审查",
    "RF02": "人防施工图审查并入施工图联合审查",
    "QX01": "防雷装置设计审核并入施工图联合审查",
    "ZJ05": "质量监督登记并入施工许可（重建：哈尔滨方案称合并事项6项，未逐项列明）",
    "ZJ06": "安全监督备案并入施工许可（重建：同上）",
}


def item_map(old_items: dict[str, Any]) -> dict[str, Any]:
    entries: dict[str, Any] = {}
    for iid in old_items:
        if iid in ABOLISHED:
            entries[iid] = {"change": "abolished", "note": MAP_NOTES[iid], "source": MAP_SOURCES[iid]}
        elif iid in MERGED:
            entries[iid] = {
                "change": "merged_into",
                "into": [MERGED[iid]],
                "note": MAP_NOTES[iid],
                "source": MAP_SOURCES[iid],
            }
        elif iid in COMMITMENT:
            entries[iid] = {
                "change": "became_commitment",
                "note": "告知承诺制：签署承诺书当场办结，施工许可后核查",
                "source": ["guoban2019", "seed004"],
            }
        elif iid == "FG05":
            entries[iid] = {
                "change": "same",
                "also": ["members"],
                "note": "管线类项目（F26）第一阶段由自然资源和规划局牵头受理（一家牵头）",
                "source": ["shifen2019", "reconstruction"],
            }
        elif iid == "GT01":
            entries[iid] = {
                "change": "renamed",
                "also": ["materials", "fees", "intermediaries"],
                "note": "更名为建设项目用地预审与选址意见书，吸收用地预审的要件",
                "source": ["zrzy2019"],
            }
        elif iid == "ZJ02":
            entries[iid] = {
                "change": "renamed",
                "also": ["members", "materials"],
                "note": "更名为施工图联合审查，消防、人防、防雷技术审查并入；不再要求勘察设计合同备案",
                "source": ["guoban2019", "seed001"],
            }
        elif iid == "ZJ07":
            entries[iid] = {
                "change": "same",
                "also": ["members", "materials", "fees", "intermediaries"],
                "note": "吸收质量、安全监督；取消建设资金已落实证明",
                "source": ["harbin2019"],
            }
        else:
            entries[iid] = {"change": "same", "source": ["reconstruction"]}
    entries["HC01"] = {"change": "new", "note": "告知承诺事项的事中事后核查", "source": ["guoban2019", "seed004"]}
    return {
        "supersedes": "harbin-2014",
        "departments": DEPT,
        "flags": {
            "land_with_scheme": {
                "drops": ["GH01", "GH07"],
                "source": ["guoban2019", "reconstruction"],
                "note": "带方案出让的土地不再单独审查设计方案、不再批前公示（国办发〔2019〕11号；适用流程为重建）",
            }
        },
        "attributes": {"risk_class": {"new": True, "note": "简易低风险：2014年规则集不问，对照时两种取值各算一次"}},
        "items": entries,
        "flowcharts": {
            "F07": {
                "dropped": ["LH01"],
                "note": "备案类自有划拨土地项目不再进行第一阶段的联合踏勘，直接进入工程建设许可",
                "source": ["harbin2019"],
            },
            "F28": {
                "change": "new",
                "taken_from": ["F12"],
                "note": "社会投资简易低风险工程：原按招拍挂、出让·工业仓储流程办理的项目",
                "source": ["guoban2020"],
            },
        },
    }


def sync_sources() -> None:
    """The 2019 manifest cites every 2014 source (carried-over facts keep their tags) and its own,
    which start at `shifen2019`; only the 2014 block between `sources:` and there is rewritten."""
    old = (OLD / "ruleset.yaml").read_text(encoding="utf-8")
    block = old[old.index("\nsources:\n") + len("\nsources:\n") : old.index("\nservice_centre:")] + "\n"
    own = {"reconstruction"}  # defined among the 2019 sources with a 2019 wording
    kept, skip = [], False
    for line in block.splitlines(keepends=True):
        if line.startswith("  ") and not line.startswith("    "):
            skip = line.strip().rstrip(":") in own
        if not skip:
            kept.append(line)
    path = NEW / "ruleset.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index("\nsources:\n") + len("\nsources:\n")
    end = text.index("  shifen2019:")
    path.write_text(text[:start] + "".join(kept) + text[end:], encoding="utf-8")


def main() -> None:
    if NEW.exists():
        for sub in ("flowcharts",):
            shutil.rmtree(NEW / sub, ignore_errors=True)
    NEW.mkdir(exist_ok=True)
    sync_sources()
    head = "# Derived from rules/harbin-2014 by tools/derive_harbin_2019.py, then kept by hand; see itemmap.yaml.\n"

    attrs = load("attributes.yaml")
    attrs["attributes"]["risk_class"] = {
        "label": "风险等级",
        "gloss": "Risk class (simple low-risk track)",
        "help": "社会投资简易低风险工程：企业投资、备案类、已取得土地的小型工业仓储项目（具体规模界限以当地规定为准）",
        "asked_when": {"all": [SLR_REGION, SLR_ACQ]},
        "values": {
            "standard": {"label": "一般项目", "gloss": "Standard"},
            "simple_low_risk": {"label": "简易低风险", "gloss": "Simple low-risk"},
        },
    }
    attrs["flags"]["land_with_scheme"] = {
        "label": "带方案出让",
        "gloss": "Land sold with an approved design scheme",
        "help": "土地出让时已附经审定的设计方案（带方案出让），不再单独进行设计方案审查",
    }
    dump(NEW / "attributes.yaml", attrs, head)

    sits = load("situations.yaml")
    slr = {"all": [SLR_REGION, SLR_ACQ, {"eq": {"risk_class": "simple_low_risk"}}]}
    for sit in sits["situations"].values():
        sit["source"] = union(sit.get("source", []), ["reconstruction"])  # the 2014 partition, kept
        if sit["flowchart"] in ("F10", "F11", "F12", "F13"):
            sit["when"] = {"all": [sit["when"], {"not": slr}]}
    sits["situations"]["S34"] = {
        "name": "社会投资简易低风险工程（工业仓储）",
        "name_en": "Social investment, simple low-risk works",
        "flowchart": "F28",
        "when": slr,
        "source": ["guoban2020", "reconstruction"],
    }
    dump(NEW / "situations.yaml", sits, head)

    deps = load("departments.yaml")
    zrzy = {
        "name": "哈尔滨市自然资源和规划局",
        "short": "自然资源和规划",
        "name_en": "Harbin Natural Resources and Planning Bureau",
        "window": deps["ghj"].get("window"),
        "note": "2019年机构改革由原规划局、国土资源局组建；牵头第一、二阶段（立项用地规划许可、工程建设许可）",
    }
    deps = {k: v for k, v in deps.items() if k not in DEPT}
    deps = {"zrzy": {k: v for k, v in zrzy.items() if v is not None}, **deps}
    deps["jw"]["name"] = "哈尔滨市住房和城乡建设局"
    deps["jw"]["short"] = "住建"
    deps["jw"]["note"] = "2019年机构改革后为住房和城乡建设局；牵头第三、四阶段（施工许可、竣工验收）"
    deps["jw"].pop("successor", None)
    dump(NEW / "departments.yaml", deps, head)

    dump(NEW / "items.yaml", items(), head)
    mats = load("materials.yaml")
    for mat in mats.values():
        if mat.get("issuer") in DEPT:
            mat["issuer"] = DEPT[mat["issuer"]]
    dump(NEW / "materials.yaml", mats, head)

    inv = load("invariants.yaml")
    out_inv = {}
    for vid, v in inv.items():
        for key in ("requires_any", "forbids"):
            if key in v:
                v[key] = [MERGED.get(i, i) for i in v[key] if i not in ABOLISHED]
                v[key] = union(v[key])
        if set(v.get("forbids", [])) & set(MERGED.values()):
            # a merge target's meaning changed (GT01 now includes the land pre-review)
            v["forbids"] = [i for i in v["forbids"] if i not in MERGED.values()]
            v["description"] += "（2019年起选址意见书与用地预审合并，合并后的事项不再禁止）"
            if not v["forbids"]:
                continue
        if "precedes" in v:  # an order between items that merged away no longer applies
            gone = ABOLISHED | set(MERGED)
            first = [i for i in v["precedes"]["first"] if i not in gone]
            then = [i for i in v["precedes"]["then"] if i not in gone]
            if not first or not then:
                continue
            v["precedes"] = {"first": first, "then": then}
        if "if_present" in v:
            v["if_present"] = union([MERGED.get(i, i) for i in v["if_present"] if i not in ABOLISHED])
        if "forbids_departments" in v:
            v["forbids_departments"] = union([dept(d) or d for d in v["forbids_departments"]])
        if "departments" in v:
            v["departments"] = {
                MERGED.get(i, i): union([dept(d) or d for d in ds])
                for i, ds in v["departments"].items()
                if i not in ABOLISHED
            }
        if "categories" in v and "tender_auction_listing" in v["categories"]:
            v["categories"] = v["categories"] + ["simple_low_risk"]
        if "requires_any" in v and not v["requires_any"]:
            continue
        out_inv[vid] = v
    dump(NEW / "invariants.yaml", out_inv, head)

    for path in sorted((OLD / "flowcharts").glob("*.yaml")):
        flow = yaml.safe_load(path.read_text(encoding="utf-8"))
        dump(NEW / "flowcharts" / path.name, flowchart(path.stem, flow), head)
    dump(NEW / "flowcharts" / "F28.yaml", SLR_FLOW, head)
    dump(
        NEW / "itemmap.yaml",
        item_map(load("items.yaml")),
        "# 事项对照表 harbin-2014 → harbin-2019: one entry per 2014 item (same, renamed, merged_into, split_into,\n"
        "# abolished, became_commitment) and per new item (new); `flowmatch diff harbin-2014 harbin-2019` explains\n"
        "# every change by this map and exits 1 on any change it does not explain.\n",
    )


if __name__ == "__main__":
    main()
