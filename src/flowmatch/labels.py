"""The one label table: the words the notice, the CLI and the web pages print for the rule-set's codes.

A material's source, a time limit's unit, a fee's kind, a stage — every face takes its Chinese
words from here, so the notice and the web page never disagree (有关部门出具, not 部门核发 on one
and the other; 即时办结, not 即办).  The English words the web pages show beside them stay in
:mod:`flowmatch.web.i18n`, which reads the Chinese ones from this table.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

__all__ = [
    "FEE_KIND_LABELS",
    "FEE_KIND_LABELS_EN",
    "LIMIT_UNIT_LABELS",
    "LIMIT_UNIT_LABELS_EN",
    "MEDIUM_LABELS",
    "MEDIUM_LABELS_EN",
    "SOURCE_LABELS",
    "SOURCE_LABELS_EN",
    "STAGE_LABELS",
    "STAGE_LABELS_EN",
]

SOURCE_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "applicant": "申请人自备",
        "department": "有关部门出具",
        "intermediary": "中介机构编制",
        "commitment": "申请人签署",
    }
)
MEDIUM_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "paper": "纸质",
        "electronic": "电子",
        "paper_and_electronic": "纸质及电子",
    }
)
LIMIT_UNIT_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "working_day": "个工作日",
        "day": "日",
        "month": "个月",
        "on_the_spot": "即时办结",
        "none": "无法定时限",
    }
)
FEE_KIND_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "administrative": "行政事业性收费",
        "fund": "政府性基金",
        "land_price": "土地出让价款（非收费）",
        "tax": "税（非收费）",
        "service": "经营服务性收费",
    }
)
STAGE_LABELS: Mapping[int, str] = MappingProxyType(
    {  # read-only: templates get it, and must not change it
        0: "技术服务（前期）",
        1: "立项用地规划许可",
        2: "工程建设许可",
        3: "施工许可",
        4: "竣工验收",
        5: "并行推进",
    }
)

# --- the same words in English (the English notice, ``lang="en"``) ----------------------------------
SOURCE_LABELS_EN: Mapping[str, str] = MappingProxyType(
    {
        "applicant": "Applicant",
        "department": "Issued by a department",
        "intermediary": "Prepared by an intermediary",
        "commitment": "Signed by the applicant",
    }
)
MEDIUM_LABELS_EN: Mapping[str, str] = MappingProxyType(
    {"paper": "Paper", "electronic": "Electronic", "paper_and_electronic": "Paper and electronic"}
)
LIMIT_UNIT_LABELS_EN: Mapping[str, str] = MappingProxyType(
    {
        "working_day": " working days",
        "day": " days",
        "month": " months",
        "on_the_spot": "on the spot",
        "none": "no statutory limit",
    }
)
FEE_KIND_LABELS_EN: Mapping[str, str] = MappingProxyType(
    {
        "administrative": "Administrative fee",
        "fund": "Government fund",
        "land_price": "Land transfer price (not a fee)",
        "tax": "Tax (not a fee)",
        "service": "Commercial service fee",
    }
)
STAGE_LABELS_EN: Mapping[int, str] = MappingProxyType(
    {
        0: "Technical services (preliminary)",
        1: "Project approval and land-use planning permit",
        2: "Construction project permit",
        3: "Construction permit",
        4: "Completion acceptance",
        5: "In parallel",
    }
)
