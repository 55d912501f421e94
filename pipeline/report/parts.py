"""The report's parts as prose (model.py): the seed's 督查报告 with every redacted figure filled in.

Each part is a function of the text helper ``t`` (text.py) returning its blocks; render.py writes them as the part's
HTML (prose_html.py) and word.py as the 公文's paragraphs. The seed's wording is here, the numbers and the words that
depend on them come from ``t``. 二、工作建议 and 附录一: parts_advice.py; 附录二 and 数字来源: parts_appendix.py.
"""
from __future__ import annotations

from typing import Any

from pipeline import indicators as ind
from pipeline.report.model import Box, Heading, Item, Items, PageStyle, Paragraph, Phrase, Span
from pipeline.report.numbers import join_names, number
from pipeline.report.summaries import units_with_status
from pipeline.report.text import Text

P = Phrase


def strong(*text) -> Span:
    return Span("strong", list(P(*text).parts))


def section(id_: str, *children, css: str = "part") -> Box:
    return Box("section", (("class", css), ("id", id_)), [c for c in children if c is not None])


def div(css: str, *children) -> Box:
    return Box("div", (("class", css),), [c for c in children if c is not None])


def with_figure(prose: list, *figures) -> Box:
    """Text with its figures beside it (the page's layout; report.docx sets them one after the other)."""
    return div("with-figure", div("prose", *prose), div("figures", *figures))


def head(t: Text, s: dict[str, Any]) -> list:
    """标题、示例数据说明、目录和导语."""
    v, round_ = t.values, t.data.round
    out: list = []
    if v["sample"]:
        out += [PageStyle('@page { @top-center { content: "示例数据 · 虚构内容，不代表真实情况"; color: #b45309; '
                          'font-size: 9pt; } }'),
                Box("div", (("class", "sample-banner"), ("role", "note")), [
                    strong("示例数据"), "：本报告由虚构的示例报表",
                    Span("screen", ["（", Span("code", ["pipeline/devtools/sample.py"]), " 生成）"]),
                    "计算得出，单位、项目和数字均不代表任何真实情况，仅供试运行和演示。"])]
    out += [Paragraph(P("督查报告"), "doc-kind"), Heading(1, P(f"关于{round_.title}情况的报告")),
            Paragraph(P("数据截至", t.as_of(), Span("sep", ["·"]), t.tp_name, t.pct("time_progress_pct"),
                        Span("sep", ["·"]), f"轮次 {round_.id}"), "meta")]
    if s["dq_findings"] or s["dq_coverage"]:
        affected = "；".join(v["data_quality.affected"]) if v["data_quality.affected"] else "见附录一"
        out.append(Box("aside", (("class", "dq-box"), ("role", "alert"), ("id", "data-quality-box")), [
            Paragraph(P(strong("数据不完整："), "本报告的部分数字未包含以下数据，引用时请注明。"), "dq-title"),
            Items([Item(P(line)) for line in [*s["dq_findings"], *s["dq_coverage"]]]),
            Paragraph(P(f"受影响的数字：{affected}。未计入的数据行{number(v['data_quality.excluded_rows'] or 0, 0)}行、"
                        f"金额{number((v['data_quality.excluded_wan'] or 0) / 10000, 2)}亿元；各单位补报或更正后重新运"
                        "行即可更新。详见", Span("link", ["附录一"], href="appendix_quality"), "。"))]))
    out += [toc(), Paragraph(lead(t, s), "lead"), t.notes_block()]
    return [Box("header", (("class", "report-head"), ("id", "top")), out)]


SUBSECTIONS = {"awareness": "（一）抓项目的意识逐步提高", "measures": "（二）项目推进措施不断优化",
               "support": "（三）项目要素保障持续跟进", "planning": "（四）项目谋划招引有序开展",
               "major_works": "（五）“十大工程项目”稳步推进"}
TOC = [("overall", "一、总体情况", list(SUBSECTIONS)),
       ("advice", "二、工作建议", []), ("appendix_quality", "附录一　数据质量", []),
       ("appendix_definitions", "附录二　指标口径", []), ("appendix_sources", "数字来源（只在屏幕上查看）", [])]


def toc() -> Box:
    def link(anchor: str, text: str) -> Span:
        return Span("link", [text], href=anchor)

    items = [Item(P(link(anchor, text)), Items([Item(P(link(s, SUBSECTIONS[s]))) for s in sub], ordered=True)
                  if sub else None) for anchor, text, sub in TOC]
    return Box("nav", (("class", "toc"), ("aria-label", "目录")), [Items(items, ordered=True)])


def lead(t: Text, s: dict[str, Any]) -> Phrase:
    v = t.values
    dates = t.inspection_dates()
    return P(f"{dates}，" if dates else "", "自治区政府督查室会同党委督查室、发展改革委，组成",
             t.count("inspection.groups") if not t.missing("inspection.groups") else "", "督查组，深入",
             t.count("inspection.cities"), "地级市",
             P("、", t.text("inspection.base_names")) if v["inspection.bases"] else "",
             "和相关区直部门" if v["inspection.departments"] else "",
             f"，采取查阅资料、实地踏勘、座谈交流等方式，对{v['year']}年全区{join_names(s['batches']) or '各批次'}"
             f"集中开工重大项目建设情况、“十大工程项目”推进情况、{v['year']}年招商引资情况开展集中督查。现将有关情况"
             "报告如下：")


START_BASE_WORDS = {"all": "全部项目", "new": "新建、改扩建项目（续建项目不计入）",
                    "planned": "计划开工时间在数据截至日期之前的项目"}


def overall(t: Text, s: dict[str, Any]) -> list:
    """一、总体情况: the opening paragraph of the section, with its figures and the table by unit."""
    v, tables = t.values, t.data.tables
    prose = [Paragraph(overall_lead(t)), Paragraph(P(
        "两批次项目年度计划投资", t.yi("batch.plan_yi"), "，已开工", t.count("batch.started"), "、未开工",
        t.count("batch.not_started"), f"；开工率以{START_BASE_WORDS[v['start_rate_base']]}为分母，共",
        t.count("batch.start_base"), f"。{t.tp_name}为", t.time_progress_basis(), "。"), "data-note")]
    funds, on_time = not t.missing("batch.funds_rate_pct"), not t.missing("batch.on_time_completion_rate_pct")
    if funds or on_time:
        prose.append(Paragraph(P(
            P("资金到位率", t.pct("batch.funds_rate_pct"), "（实际到位资金", t.yi("batch.funds_in_place_yi"),
              "÷计划到位资金", t.yi("batch.funds_planned_yi"), "）", "；" if on_time else "。") if funds else "",
            P("按期竣工率", t.pct("batch.on_time_completion_rate_pct"), "（计划在截至日期前竣工的",
              t.count("batch.due_completion"), "项目中按期竣工", t.count("batch.completed_on_time"), "）。")
            if on_time else ""), "data-note"))
    if not t.received("fai"):
        prose.append(Paragraph(t.not_received("fai"), "data-note"))
    by_unit = units_with_status(tables["by_unit"][tables["by_unit"]["scope"] == "全部项目"], s["dq"])
    return [section(
        "overall", Heading(2, P("一、总体情况")), with_figure(prose, t.figure("fai_growth")),
        Paragraph(t.fai_sentence(s["fai_months"], s["fai_regions"]), "figure-data data-note")
        if t.has_data("fai_growth") else None,
        Box("div", (("class", "with-figure"),), [div("figures", t.figure("projects_by_batch")),
                                                  div("figures", t.figure("unit_rates"))]),
        t.table("by_batch", caption="分批次开工和投资完成情况"),
        t.table("by_unit", caption="各单位开工和投资完成情况（按报送单位）", frame=by_unit,
                note="无项目的单位开工率、投资完成率无法计算，显示为“—”；“报表未采用”“未报送”的单位不是没有项目，而是其"
                     "报表未计入，见首页提示和附录一。"),
        div("figures wide", t.figure("industry_completion")),
        Paragraph(t.industry_sentence(s["industries"]), "figure-data data-note") if len(s["industries"]) else None,
        t.notes_block())]


def overall_lead(t: Text) -> Phrase:
    fai_month = t.values["fai.month"]
    fai = P()
    if not (t.missing("fai.total_yi") and t.missing("fai.yoy_pct")):
        span = f"（1—{fai_month}月累计）" if fai_month is not None and fai_month != t.month else ""
        fai = P("全区固定资产投资", span,
                P("完成", t.yi("fai.total_yi"), t.caveat("fai"), "，") if not t.missing("fai.total_yi") else "",
                t.growth("fai.yoy_pct"), "，", t.accel("fai.accel_pp"), "；其中，")
    return P("今年以来，全区各地各部门狠抓重大项目建设，全力以赴扩大有效投资，项目建设总体态势良好，为开局“十四五”、奋"
             "进新征程打下了"
             f"坚实基础。截至{t.month}月底，", fai, "两批次集中开工重大项目", t.count("batch.projects"),
             t.caveat("projects"), "，开工率", t.pct("batch.start_rate_pct"), "，完成投资", t.yi("batch.completed_yi"),
             "，投资完成率", t.pct("batch.completion_rate_pct"), "，", t.vs_time("batch.vs_time_progress_pp"), "；",
             t.count("key.projects"), "重点项目开工率", t.pct("key.start_rate_pct"), "，投资完成率",
             t.pct("key.completion_rate_pct"), "，", t.vs_time("key.vs_time_progress_pp"), "。")


def awareness(t: Text, s: dict[str, Any]) -> list:
    """（一）: the seed's text, then the units' own 典型做法 of this section."""
    return [section("awareness", Heading(3, P("（一）抓项目的意识逐步提高")), Paragraph(P(
        "去年以来，自治区党委、政府高度重视抓项目、促投资工作，坚持高位推动、持续推进、狠抓落实，全区上下项目建设大干快"
        "上氛围日益浓厚。各地各部门牢固树立“项目为王”理念，自我加压、主动作为，对标对表全年目标任务，抓紧抓早安排部署，"
        "层层落实主体责任，扎实推动谋项目、扩投资、推进度、抓落实。", t.practices("awareness"),
        "形成了一级抓一级、层层抓落实的局面。" if t.names("practices.awareness.units") else "")), t.notes_block())]


MECHANISM = "机制|制度"


def measures(t: Text, s: dict[str, Any]) -> list:
    """（二）: mechanisms (机制、制度) first, then measures, with the reward and renovation figures joined to their
    unit."""
    t.clause("measures.reward_paid.unit", P("兑现奖励资金", t.wan("measures.reward_paid.wan")))
    t.clause("measures.renovation.unit", P("企业更新改造投资", t.yi("measures.renovation.yi"), "，",
                                           t.growth("measures.renovation.yoy_pct")))
    mechanisms = t.practices("measures", group="mechanisms", match=MECHANISM)
    others = t.practices("measures", exclude=MECHANISM)
    return [section("measures", Heading(3, P("（二）项目推进措施不断优化")), Paragraph(P(
        "各地各部门按照“时间过半、任务超半”“加大力度、加快进度，确保完成任务”工作部署，算清时间账，明确任务量，落实责任"
        "人，压茬"
        "推进项目建设。", strong("完善推进机制。"), "落实“四个一”重大项目推进机制，完善“部门主管、市县主抓、企业主干”联"
                                                    "动机制。",
        mechanisms, P(strong("优化推进措施。"), others) if others else "")), t.notes_block())]


def support(t: Text, s: dict[str, Any]) -> list:
    """（三）: departments' service (部门主动服务), then local support (地方积极保障)."""
    t.clause("support.central_budget.unit", P("争取中央预算内资金", t.yi("support.central_budget.yi"), "，",
                                              t.growth("support.central_budget.yoy_pct")))
    t.clause("support.budget_coordination.unit", P("安排预算内统筹资金", t.yi("support.budget_coordination.yi")))
    t.clause("land.approved.unit", P("已批准用地项目", t.count("land.approved.count")))
    t.clause("land.prereview.unit", P("通过用地预审项目", t.count("land.prereview.count")))
    t.clause("business_env.unit", P("明确", t.count("business_env.aspects"), "方面",
                                    t.count("business_env.measures", "条"), "改革措施"))
    t.clause("land.new_supply.unit", P("新增供地", t.mu("land.new_supply.mu")))
    departments = t.practices("support", kinds=(ind.DEPARTMENT,))
    local = t.practices("support", kinds=(ind.CITY, ind.BASE))
    reward = t.yi("support.industry_reward.yi") if not t.missing("support.industry_reward.yi") else ""
    return [section("support", Heading(3, P("（三）项目要素保障持续跟进")), Paragraph(P(
        "各地各部门聚焦用地供给、征地拆迁、工地服务、资金保障等环节，加强协调服务，及时解决问题，保障项目有序推进、达产"
        "达效。",
        strong("部门主动服务。"), "自治区出台支持九大重点产业加快发展若干财政措施，设立", reward,
        "奖励资金支持重点产业发展。",
        departments, P(strong("地方积极保障。"), local) if local else "", t.not_received("indicators"))),
        t.notes_block())]


ATTRACTION_WORDS = "招商|签约|引资|招引"


def planning(t: Text, s: dict[str, Any]) -> list:
    """（四）: project planning (开展项目谋划), then investment attraction (扩大招商引资)."""
    t.clause("planning.water.unit", P("谋划重大水利项目", t.count("planning.water.categories", "大类"),
                                      t.count("planning.water.projects", "项")))
    t.clause("planning.transport.unit", P("下半年计划开工储备项目", t.count("planning.transport.projects"), "，总投资",
                                          t.yi("planning.transport.investment_yi")))
    t.clause("planning.city.unit", P("谋划扩大有效投资强后劲新项目", t.count("planning.city.projects")))
    t.clause("attraction.signing_city.unit", P(
        "集中签约", t.count("attraction.signing_city.projects"), "，总投资",
        t.yi("attraction.signing_city.contract_yi"),
        "，其中“九大产业”项目占比", t.pct("attraction.signing_city.nine_share_pct"), "（按项目个数计）"), "attraction")
    t.clause("attraction.busiest_city.unit", P("实施招商引资项目", t.count("attraction.busiest_city.projects")),
             "attraction")
    t.clause("attraction.base.unit", P(
        "新引进延链补链强链项目", t.count("attraction.base.chain_projects"), "，招商引资到位资金",
        t.yi("attraction.base.funds_in_place_yi"), "，", t.growth("attraction.base.funds_yoy_pct")), "attraction")
    plans = t.practices("planning", exclude=ATTRACTION_WORDS)
    if t.missing("attraction.projects"):
        attraction = t.not_received("attraction") or P("本轮没有招商引资项目数据。")
    else:
        attraction = P(
            f"截至{t.month}月底，全区实施招商引资合同项目", t.count("attraction.projects"), "，合同投资额",
            t.yi("attraction.contract_yi"), "，本年到位资金", t.yi("attraction.funds_in_place_yi"),
            "；其中集中签约项目",
            t.count("attraction.concentrated.projects"), "，“九大重点产业”项目", t.count("attraction.nine.projects"),
            "，占比", t.pct("attraction.nine_share_pct"), "（按项目个数计；按合同投资额计为",
            t.pct("attraction.nine_share_by_investment_pct"), "），延链补链强链项目", t.count(
            "attraction.chain_projects"),
            "。")
    prose = [Paragraph(P("各地各部门围绕重点产业发展、生态环境保护、基础设施建设、推进“四权”改革等重点领域，加大项目谋"
                         "划和招商引资力度。",
                         P(strong("开展项目谋划。"), plans) if plans else "")),
             Paragraph(P(strong("扩大招商引资。"), attraction,
                         t.practices("planning", group="attraction", match=ATTRACTION_WORDS)))]
    figures = [f for f in (t.figure("attraction_industries"), t.figure("attraction_units")) if f is not None]
    return [section(
        "planning", Heading(3, P("（四）项目谋划招引有序开展")), with_figure(prose, *figures),
        Paragraph(t.attraction_industry_sentence(t.data.tables["attraction_by_industry"]), "figure-data data-note")
        if t.has_data("attraction_industries") else None,
        t.table("attraction_by_unit", caption="各地招商引资情况") if not t.missing("attraction.projects") else None,
        t.notes_block())]


def major_works(t: Text, s: dict[str, Any]) -> list:
    """（五）: the ten major engineering projects by status, in the seed's three groups."""
    accelerating, substantive = t.names("major.accelerating.names"), t.names("major.substantive.names")
    pushing, overdue = t.names("major.pushing.names"), t.names("major.overdue.names")
    if t.missing("major.projects"):
        status = t.not_received("major_works") or P("本轮没有十大工程项目数据。")
    else:
        status = P(f"其中，{join_names(accelerating)}加快推进。" if accelerating else "",
                   f"{join_names(substantive)}{'等项目' if len(substantive) > 1 else ''}前期工作取得实质性进展。"
                   if substantive else "",
                   f"{join_names(pushing)}{'等项目' if len(pushing) > 1 else ''}前期工作加紧推进。" if pushing else "")
    prose = [Paragraph(P("省级包抓领导组织相关牵头部门和有关地方成立工作专班、制定任务书、细化时序表，主动对接国家部委"
                         "，积极协调有关省区，加快推进项目建设。", t.practices("major_works"), status))]
    if not t.missing("major.projects"):
        prose.append(Paragraph(P(
            "在建（含建成）工程", t.count("major.construction.projects"), "，年度计划投资", t.yi(
            "major.construction.plan_yi"),
            "，累计完成", t.yi("major.construction.completed_yi"), "，投资完成率",
            t.pct("major.construction.completion_rate_pct"), "。",
            f"{join_names(overdue)}的计划节点已逾期未完成，需加快推进。" if overdue
            else f"截至{t.month}月底，没有计划节点逾期未完成的工程。"), "data-note"))
    return [section("major_works", Heading(3, P("（五）“十大工程项目”稳步推进")), div("prose", *prose),
                    div("figures wide", t.figure("major_works_progress")),
                    t.table("major_works_status", caption="十大工程项目推进情况")
                    if not t.missing("major.projects") else None, t.notes_block())]
