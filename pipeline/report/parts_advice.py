"""二、工作建议 and the appendices as prose (model.py); the parts before them: parts.py."""
from __future__ import annotations

from typing import Any

from pipeline.report.model import Heading, Paragraph, Phrase, Span
from pipeline.report.numbers import chinese_date, join_names, number
from pipeline.report.parts import section, with_figure
from pipeline.report.text import Text

P = Phrase


def screen(*text) -> Span:
    """Shown on screen only (file and setting names): not printed, not in report.docx."""
    return Span("screen", list(P(*text).parts))


def advice_progress(t: Text, s: dict[str, Any]) -> list:
    """二、工作建议（一）: the seed's text, then the projects to track one by one and the change since the previous
    round."""
    v, tables = t.values, t.data.tables
    margin, below = number(v["behind_margin_pp"], 0), f"{t.below}{t.tp_name}"
    out: list = [Heading(2, P("二、工作建议")), Heading(3, P("（一）加快建设抓进度"), "advice_progress"), Paragraph(P(
        "各地各部门要紧盯“时间过半、任务超半”目标任务，抓紧抓实第一批、第二批重大项目建设，强化工作措施，加快工作进度，"
        "确保按照时间节点高质量完成投资目标。要千方百计加快推进“十大工程项目”，切实发挥大型骨干项目引领支撑和辐射带动作"
        "用。全面落实“四个一”项目推进机制，逐一明确项目建设路线图、施工图、作战图，紧盯节点抓进度，做好项目前期论证工作"
        "，推动能立项的尽早落地、已确定的抓紧开工、已开工的加快进度、已建成的快速验收，确保项目早落地、早开工、早投产、"
        "早见效。各地各部门要对前两批集中开工项目逐一排查、跟踪督办，确保真实开工、及时入统，实事求是反映项目开工情况和"
        "投资完成进度。")),
        Paragraph(P("经逐一排查，需跟踪督办的项目", t.count("track.projects"), "：未开工", t.count("track.not_started"),
                    "，已开工但累计完成投资为0的", t.count("track.zero_investment"),
                    "（需核实是否真实开工），已开工未入统", t.count("track.not_in_stats"),
                    f"，投资完成率{below}超过{margin}个百分点的", t.count("track.behind"),
                    "（一个项目可能同时属于几种情况）。逐个项目的名单已按单位列入《督办清单》（督办清单.xlsx）。"),
                  "data-note"),
        t.table("track_summary", caption="需跟踪督办的项目（按单位）", frame=s["track_summary"]),
        t.table("start_problems", caption="未开工、已开工零投资、已开工未入统的项目", frame=s["start_problems"],
                note="投资进度滞后的项目较多，见《督办清单》。"),
        Heading(4, P("三色预警"), "advice_warning")]
    most_red = P("红色预警项目较多的是", P("、").join(
        P(str(unit), "（", t.from_table("warning_summary", n), "个）") for unit, n in s["most_red"]), "。") \
        if s["most_red"] else ""
    out += [with_figure([Paragraph(P(
        f"按三色预警规则（未按计划开工、投资完成率{below}、开工后未入统，取最严重的一条，标准见附录二），两批次集中开工"
        "重大项目中，红色预警项目", t.count("warning.red"), "、黄色预警项目", t.count("warning.yellow"),
        "、绿色（无预警）项目",
        t.count("warning.green"), "。", most_red, "每个预警项目的灯色和原因已列入《督办清单》的“预警项目”表。"),
        "data-note")],
        t.figure("warning_lights")),
        t.table("warning_summary", caption="各单位三色预警项目", frame=s["warnings"],
                empty="本轮没有重大项目数据，未作三色预警"),
        Heading(4, P("与上轮督查相比"), "advice_change")]
    if t.missing("change.batch.start_rate_pp") and t.missing("change.batch.completion_rate_pp"):
        out.append(Paragraph(P("本轮不作与上轮比较",
                               P("（上一轮", t.text("previous.round"), "的数据无法比较，见附录一）")
                               if v["previous.round"] else "", "。"), "data-note"))
    else:
        out += change_since_previous(t, tables)
    return [section("advice", *out, t.notes_block())]


def change_since_previous(t: Text, tables) -> list:
    v = t.values
    as_of = chinese_date(v["previous.as_of"]) if v["previous.as_of"] else t.dash("previous.as_of")
    prose = Paragraph(P(
        "与上轮督查（", t.text("previous.round"), "，数据截至", as_of, "）相比，两批次集中开工重大项目开工率由",
        t.pct("previous.batch.start_rate_pct"), t.change("change.batch.start_rate_pp"), "至",
        t.pct("batch.start_rate_pct"),
        "，投资完成率由", t.pct("previous.batch.completion_rate_pct"), t.change("change.batch.completion_rate_pp"),
        "至",
        t.pct("batch.completion_rate_pct"), "，累计完成投资", t.more("change.batch.completed_yi"), "；重点项目开工率",
        t.change("change.key.start_rate_pp"), "，投资完成率", t.change("change.key.completion_rate_pp"),
        "。上轮未开工的项目中，已有", t.count("change.started_since"), "开工；仍有", t.count("change.not_started_both"),
        "两轮督查均未开工，要作为督办重点。本轮新出现的项目", t.count("change.new_projects"),
        "。三色预警较上轮好转（如红转黄、黄转绿）的项目", t.count("change.warning.improving"),
        "，变差（如绿转黄、红）的项目",
        t.count("change.warning.worsening"), "。"), "data-note")
    rates = tables["rate_changes"].dropna(subset=["completion_rate_pct", "prev_completion_rate_pct"], how="all")
    return [with_figure([prose], t.figure("change_since_previous")),
            t.table("rate_changes", caption="开工率和投资完成率与上轮比较", frame=rates),
            t.table("not_started_both", caption="两轮督查均未开工的项目", empty="没有两轮督查均未开工的项目")]


def advice_support(t: Text, s: dict[str, Any]) -> list:
    """二（二）: the seed's text."""
    pushing = t.names("major.pushing.names")
    return [section("advice_support", Heading(3, P("（二）统筹协调优保障")), Paragraph(P(
        "加大重大项目用地保障力度，细化征地拆迁补偿具体标准，扎实做好报批、征用、拆迁等工作。发挥政府资金引导带动作用，"
        "创新投融资体制机制，吸引民间资本参与市政、交通、生态环境、社会事业等补短板领域建设。对国家审批项目，各级各部门"
        "要领导带头、专题汇报、全力协调，力争早日获批建设。完善并落实跨省项目对接机制，加大与相关省区协调沟通力度，争取"
        "跨省区重大项目早日落地实施。")),
        Paragraph(P(f"前期工作仍需加紧推进的“十大工程项目”：{join_names(pushing)}。"), "data-note")
        if pushing else None,
        t.notes_block())]


def advice_attraction(t: Text, s: dict[str, Any]) -> list:
    """二（三）: the seed's text."""
    return [section("advice_attraction", Heading(3, P("（三）招商引资扩投资")), Paragraph(P(
        "要强化招商引资政策顶层设计，规范各地招商引资行为，优化完善招商引资考核办法，建立定期通报制度，加大考核奖励力度"
        "，树立“大招商大奖励、小招商小奖励”的鲜明导向。各地各有关部门要确定专项、明确专人、设立专班，大力开展产业链招商"
        "、集群式招商、生态化招商。实行重大工程项目“一对一、点对点”招商，聚焦引进大项目、强企业，着力引进一批产业链延伸"
        "项目、补短板增优势项目、带动型规模型项目，提高招商引资的精准性、实效性。集中力量打造优质营商环境，持续深化“放"
        "管服”改革，提供全过程、全领域、全方位服务，确保项目落地快、推进快、建设快。")),
        None if t.missing("attraction.projects") else Paragraph(P(
            "本轮招商引资合同项目中，“九大重点产业”项目占", t.pct("attraction.nine_share_pct"),
            "（按项目个数计），延链补链强链项目",
            t.count("attraction.chain_projects"), "，本年到位资金", t.yi("attraction.funds_in_place_yi"), "。"),
            "data-note"),
        t.notes_block())]


def advice_planning(t: Text, s: dict[str, Any]) -> list:
    """二（四）: the seed's text."""
    return [section("advice_planning", Heading(3, P("（四）谋划储备增后劲")), Paragraph(P(
        "聚焦高质量发展，围绕“两新一重”，谋划实施一批投资体量大、辐射带动效应强、亩均产出效益好的重大项目；聚焦转型发展"
        "，围绕“九大重点产业”高端化、智能化、集群化，谋划实施一批结构优化、创新驱动、科技引领的重大项目；聚焦绿色发展，"
        "围绕先行区建设、落实“四权”改革重点任务，谋划实施一批生态建设、环境整治、土地修复重大项目。")),
        None if t.missing("planning.projects_total") else Paragraph(P(
            "各单位目前报送谋划储备项目", t.count("planning.projects_total"), "（按各单位口径加总，可能有重叠）。"),
            "data-note"),
        t.notes_block())]


def advice_supervision(t: Text, s: dict[str, Any]) -> list:
    """二（五）: the seed's text, with 展示台/曝光台 from the ranking and the units proposed for 通报."""
    v = t.values
    margin, below = number(v["behind_margin_pp"], 0), f"{t.below}{t.tp_name}"
    showcase, exposure, notify = t.names("ranking.showcase"), t.names("ranking.exposure"), t.names("notify.units")
    if t.missing("notify.count"):
        notice = P("拟通报单位", t.dash("notify.count"), "。")
    elif notify:
        notice = P(f"{join_names(notify)}投资完成率{below}超过{margin}个百分点，有完不成年度目标任务的风险，建议予以通"
                   "报。")
    else:
        notice = P(f"本轮没有投资完成率{below}超过{margin}个百分点的单位，暂不提出通报建议。")
    ranking = P(
        "按开工率和投资完成率综合得分（两项各以100%封顶后取平均）对", t.count("ranking.ranked_units"),
        "有项目的单位排名：",
        f"列入“展示台”的是{join_names(showcase)}" if showcase else "本轮无单位列入“展示台”", "；",
        f"列入“曝光台”的是{join_names(exposure)}" if exposure else "本轮无单位列入“曝光台”", "。", notice)
    changes = v["change.ranking"] or []
    risen = [r["unit"] for r in changes if r.get("change") and r["change"] > 0]
    fallen = [r["unit"] for r in changes if r.get("change") and r["change"] < 0]
    moved = P("排名不作与上轮比较。") if t.missing("change.ranking") else P(
        "与上轮相比，", f"名次上升的有{join_names(risen)}" if risen else "没有名次上升的单位", "；",
        f"名次下降的有{join_names(fallen)}" if fallen else "没有名次下降的单位", "。")
    return [section("advice_supervision", Heading(3, P("（五）督查考核促落实")), Paragraph(P(
        "各地各部门要加大督导调研力度，通过形势研判、清单推进、现场办公、督查通报等多种形式，切实发现和解决问题。充分利"
        "用项目推进“曝光台”“监督台”“展示台”，实施动态监督，形成比学赶超良好态势。要突出重点，修订完善重大项目考核办法，"
        "促进大抓投资、大抓项目工作氛围。要结合“五晒五比五拼”专项活动，对成绩显著的市、县（区）和有关部门，在资金项目安"
        "排上予以倾斜；对工作落实不力"
        "、敷衍懈怠、未完成年度目标任务的予以通报。")), Paragraph(ranking, "data-note"), Paragraph(moved, "data-note"),
        t.table("unit_ranking", caption="单位排名（展示台、曝光台）",
                note="“名次较上轮”：与上轮督查相比名次上升、下降或持平；上轮未参与排名的单位为空。"),
        t.table("notify_list", caption="拟通报单位", empty="本轮没有拟通报的单位"), t.notes_block())]


def appendix_quality(t: Text, s: dict[str, Any]) -> list:
    """附录一: what arrived and what was set aside — from ledger.csv, problems.parquet and quarantine.parquet."""
    q = s["quality"]
    if q["reconciled"]:
        check = P("逐文件、逐工作表核对，每一数据行或采用或隔离，金额“原始＝采用＋隔离”，均一致", screen(
        "（见 ledger.csv）"), "。")
    else:
        check = P(Span("strong-na", ["台账核对不一致"]), "：有文件或工作表的数据行或金额对不上，请查看台账", screen(
        " ledger.csv "),
                  "和第1步笔记本。")
    missing = f"，未报送{len(q['missing'])}个（{join_names(q['missing'])}）" if q["missing"] else ""
    text = P(f"本轮应报送单位{q['expected']}个，已报送{q['received']}个{missing}。共读取文件{q['files']}个、工作"
             f"表{q['sheets']}个，"
             f"数据行{number(q['data_rows'], 0)}行，其中采用{number(q['kept'], 0)}行、隔离{number(q['quarantined'], 0)}"
             "行（未计入"
             f"本报告，已连同原因列入《退回修改清单》），另有标题、合计、落款等非数据行{number(q['skipped'], 0)}行。",
             check)
    out = [Heading(2, P("附录一　数据质量")), Paragraph(text),
           t.table("returns_by_unit", caption="各单位报送情况", frame=s["returns"],
                   note="“需修改的问题”和“提示”的逐条明细见《退回修改清单》（退回修改清单.xlsx）。"),
           t.table("quarantine_by_reason", caption="隔离行（按原因）", frame=s["quarantined"], empty=
           "本轮没有隔离的数据行",
                   note="一行有几个问题时在每个原因下各计一次。")]
    if len(s["open_by_reason"]):
        out.append(t.table("open_items", caption="无法计算的数字（按原因）", frame=s["open_by_reason"],
                           note="这些数字在正文中不写或写作“—”，逐项名称见第4步笔记本；补报报表或补充轮次设置后重新运行"
                                "即可计算。"))
    out.append(t.table("files_not_read", caption="未作为报表读取的文件和工作表", frame=s["not_read"],
                       empty="所有文件和工作表均已读取"))
    if len(s["analyst_notices"]):
        out.append(t.table("analyst_notices", caption="给分析人员的提示（不发给单位）", frame=s["analyst_notices"]))
    out += [t.table("corrections_applied", caption="按更正记录应用的更正", frame=s["corrections"], empty=
    "本轮没有应用更正记录",
                    note="更正记录在本轮的更正记录文件中，清洗时替换单元格的值，原始报表未改动；“删除行”的行已隔离，“保"
                         "留”表示经核实按原值采用。"), t.notes_block()]
    return [section("appendix_quality", *out, css="part appendix")]
