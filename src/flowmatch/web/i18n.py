"""The web pages' own words, in Chinese and English (``?lang=en``).

Rule-set texts carry their own English: attributes and values have ``gloss``, situations,
flowcharts, items and materials ``name_en``, categories ``gloss``.  Help texts exist in Chinese
only and are shown as they are.
"""

from __future__ import annotations

from typing import Any

from ..labels import LIMIT_UNIT_LABELS, SOURCE_LABELS

LANGS = ("zh", "en")


def lang_of(query_string: bytes | str) -> str:
    """The page language from a raw query string, parsed (``?lang=en``; the last ``lang`` wins,
    anything else is Chinese) — never by looking for the text ``lang=en`` in it."""
    from urllib.parse import parse_qsl

    text = query_string.decode("latin-1") if isinstance(query_string, bytes) else query_string
    chosen = [v for k, v in parse_qsl(text, keep_blank_values=True) if k == "lang"]
    return chosen[-1] if chosen and chosen[-1] in LANGS else "zh"


TEXT: dict[str, tuple[str, str]] = {
    "site": ("建设项目审批流程智能适配", "Construction-project approval finder"),
    "skip": ("跳到正文", "Skip to content"),
    "nav_home": ("首页", "Home"),
    "nav_ask": ("智能问答", "Questionnaire"),
    "nav_search": ("搜索", "Search"),
    "nav_browse": ("按类别浏览", "Browse"),
    "other_lang": ("English", "中文"),
    "other_lang_name": ("English version", "中文版"),
    "intro": (
        "回答几个关于项目的问题，找到唯一适用的审批流程图，查看办理时限，并打印一次性告知书。"
        "只问能改变结果的问题；不确定的可以选“不确定”。",
        "Answer a few questions about your project to find its one approval flowchart, see how long "
        "it takes and print the one-time notice. Only questions that can change the answer are asked; "
        "choose “not sure” when you do not know.",
    ),
    "start": ("开始问答", "Start the questionnaire"),
    "or_search": ("或者按关键词搜索", "Or search by keyword"),
    "or_browse": ("或者按类别浏览全部流程图", "Or browse every flowchart by category"),
    "figures": ("{situations}种情形 · {flowcharts}个审批流程图", "{situations} situations · {flowcharts} flowcharts"),
    "question_no": ("第 {n} 题", "Question {n}"),
    "remaining": ("还需 {lo}–{hi} 题（含本题）", "{lo}–{hi} questions to go, this one included"),
    "remaining_exact": ("还需 {k} 题（含本题）", "{k} questions to go, this one included"),
    "last_question": ("最后一题", "last question"),
    "dead_head": (
        "以下选择按您已有的回答没有适用的审批流程（仍可选择以确认）：",
        "With your other answers these choices lead to no approval flow (you can still pick one to confirm):",
    ),
    "no_flow": ("没有适用流程：", "No flow applies: "),
    "option_na_en": (
        "the law does not allow this combination with your other answers.",
        "the law does not allow this combination with your other answers.",
    ),
    "summary": ("结论", "The answer"),
    "finish_date": ("最早办结日期", "Earliest finish date"),
    "estimated": ("预计", "estimated"),
    "estimated_help": ("（该年度的法定节假日尚未公布，按推算）", "(that year's public holidays are not yet published)"),
    "finish_help": (
        "（今天或下一个工作日受理，按计时工作日推算；招标、公示等不计时环节另需时间）",
        "(accepted today or on the next working day, counted working days; tendering, publicity "
        "and other uncounted activities take extra time)",
    ),
    "to_prepare": ("需要准备", "To prepare"),
    "prepare_n": ("{n} 种材料", "{n} materials"),
    "and_more": ("等，完整清单见告知书", "and more; the full list is in the notice"),
    "get_notice": ("获取一次性告知书", "Get the one-time notice"),
    "notice_in_chinese": (
        "",
        "The notice is in English, but legal bases, fees and notes in it are still in Chinese for now.",
    ),
    "notice_in_english": (
        "",
        "The notice is in English; laws and regulations are cited in English with their official Chinese titles "
        "beside.",
    ),
    "notice_options": ("更多选项（项目名称、申请单位、受理日期、PDF）", "More options (project, applicant, date, PDF)"),
    "why_lead": ("按您的以下回答，项目属于“{s}”：", "By these answers your project is “{s}”:"),
    "not_others": ("同类中其他情形不适用：", "Other situations of the same kind do not apply:"),
    "details_codes": ("详细依据（情形编号与规则代码）", "Details (situation and rule codes)"),
    "na_plain_en": (
        "The law does not allow this combination of answers, so no approval flow of this rule-set applies. "
        "Change one answer below.",
        "The law does not allow this combination of answers, so no approval flow of this rule-set applies. "
        "Change one answer below.",
    ),
    "alternatives": ("改一个回答即可找到流程", "Change one answer to find a flow"),
    "change_to": ("把“{q}”改为“{v}”", "Change “{q}” to “{v}”"),
    "then_more": ("（再回答几题）", "(then a few more questions)"),
    "rule_code": ("规则代码", "Rule code"),
    "possible_flows": ("可能的流程", "Possible flows"),
    "day_range": ("{lo}–{hi} 个工作日", "{lo}–{hi} working days"),
    "common_prepare": ("所有可能流程都要的材料", "Materials every possible flow needs"),
    "get_provisional": ("获取临时告知书（共同部分）", "Get the provisional notice (the common part)"),
    "settle_title": ("回答这些问题最能确定流程（按效果排序）", "Answering these settles it most (best first)"),
    "then_left": ("答后平均约剩 {n} 个流程", "leaves about {n} flows on average"),
    "may_not_apply": ("另有 {n} 种回答组合在本规则集中不适用", "{n} answer combinations would not apply at all"),
    "provisional_title": ("临时一次性告知书（共同部分）", "Provisional one-time notice (the common part)"),
    "provisional_kicker": ("流程尚未确定", "The flow is not yet certain"),
    "provisional_lead": (
        "您有问题回答了“不确定”，还有 {n} 个流程可能适用。"
        "本告知书只列出所有这些流程都需要的材料和审批事项；确定回答后请重新生成正式告知书。",
        "Some answers were “not sure”, so {n} flows remain possible. This notice lists only what "
        "every one of them needs; once you know the answers, make the full notice.",
    ),
    "common_materials": ("所有可能流程都需要的材料", "Materials every possible flow needs"),
    "common_materials_help": ("无论最终适用哪个流程，都要准备以下材料。", "Whichever flow applies, prepare these."),
    "common_items": ("所有可能流程都包含的审批事项", "Approval items every possible flow contains"),
    "notice_actions": ("告知书操作", "Notice actions"),
    "back_to_result": ("返回结果页", "Back to the result"),
    "print_hint": ("打印：按 Ctrl+P（Mac 为 ⌘+P）", "To print: press Ctrl+P (⌘+P on a Mac)"),
    "applicant": ("申请单位（可空）", "Applicant (optional)"),
    "applicant_plain": ("申请单位", "Applicant"),
    "project_name_plain": ("项目名称", "Project"),
    "unsure": ("不确定", "Not sure"),
    "unsure_help": (
        "继续回答其余问题，最后列出所有可能的流程及最快、最慢时限。",
        "Go on with the other questions; at the end you see every possible flow with best and worst case.",
    ),
    "next": ("下一步", "Next"),
    "back": ("返回上一题", "Previous question"),
    "restart": ("重新开始", "Start again"),
    "answers_so_far": ("已回答", "Your answers"),
    "change": ("修改", "Change"),
    "change_label": ("修改“{q}”", "Change “{q}”"),
    "current": ("（当前答案）", "(current answer)"),
    "result_matched": ("您的项目适用", "Your project's flow"),
    "result_na": ("按您的回答，没有适用的审批流程", "By your answers, no approval flow applies"),
    "result_undetermined": ("还不能确定唯一的流程", "The flow is not yet certain"),
    "flowchart": ("审批流程图", "Flowchart"),
    "situation": ("情形", "Situation"),
    "category": ("类别", "Category"),
    "why": ("为什么是这个流程", "Why this flow"),
    "working_days": ("计时工作日", "Counted working days"),
    "elapsed": (
        "含不计时环节（招标、公示、中介服务等）约",
        "Including not-counted activities (tendering, publicity, intermediaries), about",
    ),
    "days": ("{d} 个工作日", "{d} working days"),
    "no_steps": ("该流程图的步骤数据尚未录入。", "The steps of this flowchart have not been entered yet."),
    "timeline": ("办理进度", "Timeline"),
    "plan_title": ("时限与步骤", "Time limits and steps"),
    "steps": ("审批步骤", "Steps"),
    "stage": ("阶段", "Stage"),
    "step": ("步骤", "Step"),
    "department": ("部门", "Department"),
    "duration": ("时限（工作日）", "Limit (working days)"),
    "counted": ("计时", "Counted"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "critical": ("关键路径", "critical path"),
    "flags_title": ("可选情况", "Optional circumstances"),
    "flags_help": (
        "勾选适用于本项目的情况，流程中的相应可选步骤会加入或免除。",
        "Tick what applies to your project; the matching optional steps are added or waived.",
    ),
    "update": ("更新", "Update"),
    "notice_title": ("一次性告知书", "One-time notice"),
    "notice_help": (
        "告知书列出全部审批步骤、部门、时限和需要准备的材料（每种材料只列一次），可打印后带到服务中心。",
        "The notice lists every step, department, time limit and material to prepare (each once); "
        "print it and bring it to the service centre.",
    ),
    "notice_html": ("打印版告知书（网页）", "Printable notice (web page)"),
    "notice_pdf": ("告知书 PDF", "Notice as PDF"),
    "notice_md": ("告知书 Markdown", "Notice as Markdown"),
    "project_name": ("项目名称（可空）", "Project name (optional)"),
    "start_date": ("受理日期（可空，用于推算办结日期）", "Acceptance date (optional, for the finish date)"),
    "format": ("格式", "Format"),
    "make_notice": ("生成告知书", "Make the notice"),
    "notice_unavailable": ("本服务器尚未安装告知书生成功能。", "This server cannot make notices yet."),
    "pdf_unavailable": (
        "本服务器不能生成 PDF，请使用打印版网页。",
        "This server cannot make PDFs; use the printable web page.",
    ),
    "reason": ("原因", "Reason"),
    "legal_basis": ("依据", "Legal basis"),
    "consider": ("可考虑", "Consider instead"),
    "candidates": ("可能的流程", "Possible flows"),
    "candidates_help": (
        "因为有问题回答了“不确定”，以下流程都有可能。回答这些问题即可确定唯一流程：",
        "Some answers were “not sure”, so each of these flows is possible. Answer these to settle it:",
    ),
    "best": ("最快", "Best case"),
    "worst": ("最慢", "Worst case"),
    "share": ("可能性", "Likelihood"),
    "also_na": ("也可能不适用", "It may also not apply"),
    "answer_it": ("回答“{q}”", "Answer “{q}”"),
    "search_title": ("搜索", "Search"),
    "search_label": (
        "关键词（情形、流程图、审批事项或申请材料，简体或繁体）",
        "Keywords (situations, flowcharts, items or materials; Chinese or English)",
    ),
    "search_button": ("搜索", "Search"),
    "kind_all": ("全部", "All"),
    "kind_label": ("范围", "Scope"),
    "results": ("“{q}”：{n} 条结果", "“{q}”: {n} results"),
    "no_results": ("未找到与“{q}”相关的结果。试试更短的关键词。", "Nothing found for “{q}”. Try a shorter keyword."),
    "kind_situation": ("情形", "Situation"),
    "kind_flowchart": ("审批流程图", "Flowchart"),
    "kind_item": ("审批事项", "Approval item"),
    "kind_material": ("申请材料", "Material"),
    "browse_title": ("按类别浏览", "Browse by category"),
    "situations_n": ("{n} 种情形", "{n} situations"),
    "flowcharts_n": ("{n} 个流程图", "{n} flowcharts"),
    "used_by": ("适用情形", "Used for"),
    "contains": ("包含此事项的流程图", "Flowcharts with this item"),
    "needed_by": ("需要此材料的审批事项", "Items that need this material"),
    "materials": ("申请材料", "Materials"),
    "statutory": ("法定时限", "Statutory limit"),
    "promised": ("承诺时限", "Promised limit"),
    "source": ("来源", "Source"),
    "unit_working_day": (LIMIT_UNIT_LABELS["working_day"], "working days"),
    "unit_day": (LIMIT_UNIT_LABELS["day"], "days"),
    "unit_month": (LIMIT_UNIT_LABELS["month"], "months"),
    "unit_on_the_spot": (LIMIT_UNIT_LABELS["on_the_spot"], "on the spot"),
    "unit_none": (LIMIT_UNIT_LABELS["none"], "no statutory limit"),
    "source_applicant": (SOURCE_LABELS["applicant"], "Applicant"),
    "source_department": (SOURCE_LABELS["department"], "Issued by a department"),
    "source_intermediary": (SOURCE_LABELS["intermediary"], "Prepared by an intermediary"),
    "issuer": ("核发部门", "Issued by"),
    "originals": ("原件", "Originals"),
    "copies": ("复印件", "Copies"),
    "note": ("说明", "Note"),
    "result_doc": ("办理结果", "Result"),
    "variant_of": ("按情形 {s} 配置", "as configured for situation {s}"),
    "diagram": ("流程图", "Diagram"),
    "error_title": ("出错了", "Something went wrong"),
    "bad_request": ("链接中的参数有误", "The link has a problem"),
    "bad_request_help": (
        "这个链接可能被修改过或已经过期。您可以重新开始问答。",
        "The link may have been changed or may be out of date. You can start the questionnaire again.",
    ),
    "not_found": ("找不到这个页面", "Page not found"),
    "not_found_help": ("请检查网址，或从首页重新开始。", "Check the address, or start again from the home page."),
    "method_not_allowed": ("不支持这种请求方式", "This request method is not supported"),
    "too_large": ("请求太大", "The request is too large"),
    "too_large_help": ("本服务只接受简短的请求。", "This service only accepts short requests."),
    "uri_too_long": ("链接太长", "The link is too long"),
    "server_error": ("服务器内部错误", "Internal error"),
    "server_error_help": (
        "处理请求时出了问题，已记录在服务器日志中。请稍后再试或重新开始。",
        "Something failed while handling the request; it has been logged. Try again or start over.",
    ),
    "unavailable": ("暂不可用", "Not available"),
    "problems": ("问题", "Problems"),
    "compare_link": (
        "规则变化后本项目会怎样：与{name}比较",
        "How the rules changed for this project: compare with {name}",
    ),
    "compare_kicker": ("规则集比较", "Rule-sets compared"),
    "compare_title": ("同一项目在两版规则下的比较", "The same project under two rule-sets"),
    "compare_lead": (
        "按您的回答，分别在“{old}”和“{new}”下匹配流程、排出时限，并列出每一处变化及其依据（变更对照表）。",
        "Your answers matched and scheduled under “{old}” and under “{new}”, with every change and its reason "
        "(the item map).",
    ),
    "in_force_from": ("{d} 起施行", "in force from {d}"),
    "compare_needs": ("还需回答：{what}", "needs an answer to: {what}"),
    "compare_steps": ("审批事项（个）", "Approval steps"),
    "compare_requisites": ("申请材料（件次）", "Materials asked (times)"),
    "compare_elapsed": ("含不计时环节的总工作日", "Working days incl. time not counted"),
    "compare_start": ("日期按 {d} 受理计算。", "Dates count from acceptance on {d}."),
    "compare_changes": ("变化与依据", "What changed, and why"),
    "compare_no_map": (
        "这两版规则之间没有变更对照表，以下变化未经说明。",
        "These rule-sets have no item map between them; the changes below are not explained.",
    ),
    "compare_same": ("本项目在两版规则下没有变化。", "Nothing changes for this project."),
    "compare_if": ("如果", "If"),
    "compare_removed": ("不再办理：{item}", "No longer needed: {item}"),
    "compare_merged": ("“{item}”并入“{into}”", "“{item}” merged into “{into}”"),
    "compare_added": ("新增办理：{item}", "Newly needed: {item}"),
    "compare_commitment": ("改为告知承诺制：{item}", "Now by notification and commitment: {item}"),
    "compare_materials_dropped": ("不再需要的材料 {n} 种", "{n} materials no longer asked"),
    "compare_materials_new": ("新需要的材料 {n} 种", "{n} materials newly asked"),
    "compare_fees_removed": ("不再收取的费用", "Fees no longer charged"),
    "compare_fees_added": ("新增费用", "New fees"),
    "compare_unexplained": ("未说明的变化", "Unexplained change"),
    "compare_back": ("← 返回结果页", "← Back to the result"),
    "footer": (
        "本规则集为依据公开资料所作的重建，非官方原件；以服务中心的告知为准。",
        "This rule-set is a reconstruction from public sources, not an official document; "
        "the service centre's word prevails.",
    ),
}


def text(key: str, lang: str, **values: Any) -> str:
    """The UI text for ``key`` in ``lang`` with ``{placeholders}`` filled."""
    zh, en = TEXT[key]
    out = en if lang == "en" else zh
    return out.format(**values) if values else out


def label(obj: Any, lang: str) -> str:
    """The Chinese label (or English gloss / name) of a rule-set object."""
    if lang == "en":
        for attr in ("gloss", "name_en"):
            value = getattr(obj, attr, None)
            if value:
                return str(value)
    for attr in ("label", "name"):
        value = getattr(obj, attr, None)
        if value:
            return str(value)
    return str(getattr(obj, "id", ""))


def free_text(obj: Any, field: str, lang: str) -> tuple[str, str]:
    """A free text of a rule-set object (``help``, ``result``, ``note``, ...) in ``lang``, with the
    language it is in (the Chinese one, marked ``zh-CN``, where the rule-set has no English)."""
    if lang == "en":
        found = getattr(obj, f"{field}_en", None)
        if found:
            return str(found), "en"
    return str(getattr(obj, field, None) or ""), "zh-CN"


def help_text(obj: Any, lang: str) -> tuple[str, str]:
    """The help text of a question, option or flag in ``lang`` (see :func:`free_text`)."""
    return free_text(obj, "help", lang)


def other(obj: Any, lang: str) -> str:
    """The other language's label, shown small beside :func:`label` ("" when it is the same)."""
    mine = label(obj, lang)
    theirs = label(obj, "zh" if lang == "en" else "en")
    return "" if theirs == mine else theirs
