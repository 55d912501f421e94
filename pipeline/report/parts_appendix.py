"""附录二 指标口径 and 数字来源 as prose (model.py)."""
from __future__ import annotations

from typing import Any

from pipeline.report.model import Box, Heading, Paragraph, Phrase, Span, Terms
from pipeline.report.numbers import number
from pipeline.report.parts import section
from pipeline.report.parts_advice import screen
from pipeline.report.text import Text

P = Phrase


def time_progress_definition(t: Text) -> Phrase:
    c, tp = t.conv, t.tp_name
    if c.time_progress_mode == "days":
        how = P("截至日已过天数÷全年天数（闰年366天", screen("，round.yml 中 time_progress: days"), "）")
    elif c.time_progress_mode == "targets":
        how = P("按年度计划的逐月累计目标（", screen("round.yml 中 time_progress 的"),
                f"12个值：{'、'.join('%g' % x for x in c.time_progress_targets)}，单位%），取截至月份的目标")
    else:
        how = P("数据截至月份÷12", screen("（round.yml 中 time_progress: months）"))
    return P(how, f"。本轮数据截至{t.as_of()}，{tp}为", t.time_progress_basis(), "。",
             screen(f"报告称“{tp}”（round.yml 中 time_progress_name）。"))


def start_rate_definition(base: str) -> Phrase:
    if base == "all":
        return P("已开工项目数÷应开工项目数。本轮以两批次全部项目为应开工项目", screen(
        "（round.yml 中 start_rate_base: all）"), "。")
    if base == "planned":
        return P(
        "已开工项目数÷应开工项目数。本轮应开工项目为计划开工时间在数据截至日期（含）之前的项目，未填计划开工时间的项目"
        "不计入分母", screen("（round.yml 中 start_rate_base: planned）"), "。")
    return P("已开工项目数÷应开工项目数。本轮应开工项目为新建、改扩建项目，续建项目不计入分母",
             screen("（round.yml 中 start_rate_base: new）"), "。")


def warning_definition(t: Text) -> Phrase:
    w, below, tp = t.conv.warning, t.conv.progress_words[1], t.tp_name
    late = f"满{number(w.start_late_yellow_months, 0)}个月" if w.start_late_yellow_months > 0 else ""
    return P(
        f"两批次每个项目按以下规则亮灯，取最严重的一条（红重于黄，均未触发为绿）：计划开工时间已过仍未开工{late}为黄，"
        "滞后"
        f"{number(w.start_late_red_months, 0)}个月及以上为红；投资完成率{below}{tp}{number(w.behind_yellow_pp, 0)}至"
        f"{number(w.behind_red_pp, 0)}个百分点为黄，超过{number(w.behind_red_pp, 0)}个百分点为红；已开工未入统满"
        f"{number(w.stats_yellow_months, 0)}个月为黄，满{number(w.stats_red_months, 0)}个月为红（月数按整月计",
        screen("，round.yml 中 warning"), "）。缺少判断所需的数据（如没有计划开工时间、开工时间）时该条规则不判断，并在"
                                          "《督办清单》中写明。与上轮相比，灯色变好（红转黄、红转绿、黄转绿）为好转，变"
                                          "差（绿转黄、绿转红、黄转红）为变差。")


def appendix_definitions(t: Text, s: dict[str, Any]) -> list:
    """附录二: the definitions the figures follow (pipeline/indicators/assembly.py and findings.py implement them)."""
    v, c, tp = t.values, t.conv, t.tp_name
    margin, up, below = number(v["behind_margin_pp"], 0), *c.progress_words
    places = "两" if c.decimals == 2 else "一"
    terms = [
        (tp, time_progress_definition(t)), ("开工率", start_rate_definition(v["start_rate_base"])),
        ("投资完成率", "本年累计完成投资÷年度计划投资。"),
        ("资金到位率", "实际到位资金÷计划到位资金，取重大项目进展情况表的“计划到位资金”“实际到位资金”列（填报了计划到位"
                       "资金的项目；实际到位资金未填按0计）；报表没有这两列时不计算。"),
        ("按期竣工率", "按期竣工项目数÷计划竣工时间在数据截至日期（含）之前的项目数；竣工时间不晚于计划竣工时间为按期竣"
                       "工，未填竣工时间而“是否竣工”填“是”的也计为按期竣工；报表没有“计划竣工时间”列，或没有“是否竣工”“"
                       "竣工时间”列时不计算。"),
        (f"{up}（{below}）{tp}×个百分点", P(f"投资完成率－{tp}，用未经四舍五入的数值相减后再保留{places}位小数",
                                        screen("（round.yml 中 progress_words、decimals）"), "。")),
        ("三色预警", warning_definition(t)),
        ("固定资产投资增速，加快（回落）×个百分点", "统计部门报送的本年累计同比增速；加快（回落）＝本年累计增速－上年同"
                                                    "期累计增速。"),
        ("同比", "（本期－上年同期）÷上年同期；上年同期未填报或为0时不计算。"),
        ("两批次集中开工重大项目、重点项目", "重大项目进展情况表中第一批、第二批集中开工的全部项目；重点项目为“是否重点"
                                             "项目”填“是”的项目。同一项目由两个单位重复报送时只计一次。"),
        ("“九大重点产业”占比", "按项目个数计算：九大重点产业（枸杞、葡萄酒、奶产业、肉牛和滩羊、电子信息、新型材料、绿"
                               "色食品、清洁能源、文化旅游）招商引资项目个数÷全部招商引资合同项目个数。按合同投资额计算"
                               "的占比另列，供参考。"),
        ("需跟踪督办的项目", "未开工；已开工但累计完成投资为0（须核实是否真实开工）；已开工但未入统；投资完成"
                     f"率{below}{tp}超过{margin}"
                     "个百分点（年度计划投资为0的不判断）。一个项目列一次，写明全部原因。"),
        ("综合得分、展示台和曝光台", "综合得分＝（开工率＋投资完成率）÷2，两项各以100%封顶；无应开工项目的单位只按投资"
                                     "完成率计分，无项目或年度计划投资为0的单位不参与排名。得分前3名列入“展示台”，其余"
                                     "单位中后3名列入“曝光台”。“名次较上轮”为与上轮督查相比名次上升、下降或持平。"),
        ("拟通报单位", f"投资完成率{below}{tp}超过{margin}个百分点的单位，有完不成年度目标任务的风险。"),
        ("与上轮比较", "按项目编号（无编号时按项目名称，忽略全半角、空格和括号）匹配上一轮的同一项目。"),
        ("“××市”“××基地”“××部门”的数据", "取自该单位报送的主要指标情况表或典型做法；同一指标有多个单位报送时，按指标优"
                                         "先取指定的部门（或市、基地）中本期累计最大的一个，并写明单位。"),
        ("数字的写法", P("金额以亿元为单位保留一位小数（奖励资金以万元、供地以亩为单位取整数），百分比和百分点保"
                    f"留{places}位小数（四舍五入",
                      screen("，round.yml 中 decimals"), "），个数为整数；正文不用千分位，表格用千分位。“—”表示该项无法"
                                                         "计算，原因见所在部分末尾的注。"))]
    return [section("appendix_definitions", Heading(2, P("附录二　指标口径")),
                    Terms([(P(term), P(text), "") for term, text in terms], "definitions"),
                    Paragraph(P("资料来源：各单位报送的重大项目进展情况表、十大工程项目推进情况表、招商引资项目情况表、"
                                "主要指标情况表、工作举措与典型做法，统计部门的固定资产投资情况；由督查报表处理流水线清"
                                "洗和计算"
                                f"（轮次 {t.data.round.id}）。"), "data-note"), t.notes_block(), css="part appendix")]


def source_text(e: dict[str, Any]) -> str:
    """An entry of 数字来源: how the number is calculated and which rows it rests on."""
    text = f"{e['calculation']}。" if e["calculation"] else ""
    if e["count"] is not None:
        text += f"依据{e['count']}{e['what']}"
        if e["sheet"]:
            text += f"，逐行列在 {e['file']} 的工作表“{e['sheet']}”"
            text += f"（“{e['column']}”列）" if e["column"] else ""
            text += f"，表中每一行取“{e['by']}”相同的行，合计行取全部行" if e["by"] else ""
        text += "。"
    else:
        text += f"取自{e['origin']}。"
    return text + (f"各列：{e['columns']}。" if e["columns"] else "")


def appendix_sources(t: Text, s: dict[str, Any]) -> list:
    """数字来源: where each number comes from (indicators.json "sources", pipeline/indicators/sources.py); each
    number of the report links here. For the analyst on screen: collapsed, left out of print and of report.docx."""
    entries = t.source_entries()
    listed = (Terms([(P(e["label"]), P(source_text(e)), e["anchor"]) for e in entries], "sources") if entries else
              Paragraph(P("本轮没有数字来源：请重新运行第2步（计算指标）。"), "data-note"))
    summary = Box("summary", (), [Heading(2, P("数字来源")),
                                  Span("hint", ["（点击展开；只在屏幕上查看，不打印，也不进 Word 版）"])])
    return [section("appendix_sources", Box("details", (("class", "sources-box"),), [summary, Paragraph(P(
        "正文中的每个数字都链接到这里的一条：含义、算法（代入的数值）和所依据的行。两批次集中开工重大项目、重点项目、各"
        "单位开工率和投资完成率、需跟踪督办的项目和三色预警所依据的每一行，列在同一文件夹的《数字来源》（数字来源.xlsx"
        "）中，每组数字一个工作表，逐行写明单位、文件、工作表、Excel 行号和所用数值，可与各单位报表逐行核对。其余数字写"
        "明取自哪张报表或轮次设置。表格中的数字链接到所在表的一条，写明各列的算法和所依据的行；各单位的开工率、投资完成"
        "率链接到该单位的一条。")), listed, t.notes_block()]),
        css="part appendix screen-only")]
