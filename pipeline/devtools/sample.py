"""Deterministic sample rounds: fictional returns shaped like the ones units really send.

`write_sample_rounds(raw_root, n_projects, seed)` writes two rounds under raw_root:

* 2021-12, the current round (data to 2021-11-30, previous round 2021-09), with the
  mess real returns have (title and unit rows, one-, two- and three-row merged headers,
  header synonyms, 亿元 and 万元, the money unit at the far right above the header or
  only in a note below the table, one sheet per batch with the batch only in the sheet
  name and title, group headings 一、产业项目（N个） with their sums and 某某区小计 rows,
  numbers as text, “—” or nothing for a not-started project's 累计完成投资, 小计/合计
  rows, footers, .xlsx, legacy .xls and GB18030/UTF-8 csv files, arbitrary file names
  and folders), a dozen planted mistakes listed in planted_mistakes.json, and one unit
  (农业农村厅) that sends nothing;
* 2021-09, the previous round (data to 2021-08-31): the same projects, fewer started
  and less invested, the same formats, no planted mistakes.

Every figure, name and phone number is fictional. The same seed gives the same
files byte for byte (workbook timestamps are fixed; nothing reads the clock).

How it works: a "world" is drawn once with numpy (projects, signed investment
projects, indicators, FAI series, the ten major works). Each round renders that
world into returns: per unit a layout (file name, format, header spelling, money
unit, how values are written), cut into sheets of at most ROWS_PER_SHEET data rows
and workbooks of at most SHEETS_PER_BOOK sheets, so the number of files grows with
n_projects. Every sheet is first built as a grid (so the Excel row of each planted
mistake is known), then written with xlsxwriter, xlwt or csv.

planted_mistakes.json items: file (relative to the round folder, forward slashes),
sheet (the file stem for csv), row (Excel row number, 1-based, 0 for a missing
return), column (the header as written, line breaks removed; "" for a row- or
file-level mistake), kind (one of MISTAKE_KINDS) and description (Chinese): what is
wrong and what the pipeline does with it under its value policy (only a row without a
project name, or a duplicate, is quarantined; a bad cell keeps its project and is left
out of the sums).
"""
from __future__ import annotations

import csv
import datetime as dt
import json
import re
import shutil
import sys
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import xlsxwriter
import xlwt
import yaml

from pipeline import paths as config
from pipeline import schemas
from pipeline.cli import ChineseParser
from pipeline.schemas import BOOL, DATE, MONEY, NUMBER, SEQ, TEXT

# --------------------------------------------------------------------------- constants

ROWS_PER_SHEET = 500  # data rows per sheet before a unit's return is split
SHEETS_PER_BOOK = 4  # return sheets per workbook before a second workbook is started
MIN_PROJECTS = 50
MIN_PER_UNIT = 5

SAMPLE_NOTE = "（样例数据）"
MISTAKES_FILE = "planted_mistakes.json"

MISTAKE_KINDS = {
    "text_amount": "金额填成文字",
    "completed_exceeds_total": "累计完成投资大于总投资",
    "start_after_cutoff": "开工时间晚于数据截至日期",
    "invalid_bool": "是否开工填写不规范",
    "invalid_date": "日期无法识别",
    "missing_name": "项目名称为空",
    "negative_amount": "金额为负数",
    "total_mismatch": "合计与明细之和不符",
    "group_total_mismatch": "分组行金额与其下项目之和不符",
    "duplicate_code": "同一单位项目编号重复",
    "unknown_header": "无法识别的表头",
    "missing_return": "未报送",
}


@dataclass(frozen=True)
class RoundSpec:
    id: str
    as_of: dt.date
    previous: str | None
    title: str
    current: bool  # the round with planted mistakes and a missing return
    inspection: tuple[dt.date, dt.date]  # 督查 dates (the seed's "12月X日—X日")
    groups: int  # 督查组数


CURRENT = RoundSpec("2021-12", dt.date(2021, 11, 30), "2021-09", "2021年全区重大项目建设集中督查（样例数据）", True,
                    (dt.date(2021, 12, 6), dt.date(2021, 12, 10)), 5)
PREVIOUS = RoundSpec("2021-09", dt.date(2021, 8, 31), None, "2021年全区重大项目建设第三季度督查（样例数据）", False,
                     (dt.date(2021, 9, 13), dt.date(2021, 9, 16)), 4)
ROUNDS = (CURRENT, PREVIOUS)

UNITS = ("银川市", "石嘴山市", "吴忠市", "固原市", "中卫市", "宁东基地", "发展改革委", "交通运输厅", "水利厅",
         "住房城乡建设厅", "自然资源厅", "商务厅", "农业农村厅")
CITIES = UNITS[:5]
MISSING_UNIT = "农业农村厅"  # sends nothing in the current round

# Who signs the footer (填报单位). Each contains the unit's name as written in round.yml.
ORGS = {
    **{c: f"{c}发展和改革委员会" for c in CITIES},
    "宁东基地": "宁东基地管委会经济发展局",
    "发展改革委": "自治区发展改革委",
    "交通运输厅": "自治区交通运输厅",
    "水利厅": "自治区水利厅",
    "住房城乡建设厅": "自治区住房城乡建设厅",
    "自然资源厅": "自治区自然资源厅",
    "商务厅": "自治区商务厅",
    "农业农村厅": "自治区农业农村厅",
}
ATTRACTION_ORGS = {**{c: f"{c}商务局" for c in CITIES}, "宁东基地": "宁东基地管委会招商服务局"}
REPORTERS = ("张三", "李四", "王五", "赵六", "孙七", "周八", "吴九", "郑十", "马明", "杨帆", "刘芳", "陈静", "何平")

COUNTIES = {
    "银川市": ("兴庆区", "金凤区", "西夏区", "永宁县", "贺兰县", "灵武市"),
    "石嘴山市": ("大武口区", "惠农区", "平罗县"),
    "吴忠市": ("利通区", "红寺堡区", "青铜峡市", "盐池县", "同心县"),
    "固原市": ("原州区", "西吉县", "隆德县", "泾源县", "彭阳县"),
    "中卫市": ("沙坡头区", "中宁县", "海原县"),
}
COUNTY_CITY = {county: city for city, counties in COUNTIES.items() for county in counties}
ALL_COUNTIES = tuple(COUNTY_CITY)
NINGDONG_AREAS = ("煤化工园区", "临河综合项目区", "精细化工园区", "宁东镇")
REGION_CODES = {"银川市": "640100", "石嘴山市": "640200", "吴忠市": "640300", "固原市": "640400", "中卫市": "640500",
                "宁东基地": "640181"}

# Units sending 重大项目进展情况表: share of the projects, pace of investment (1.0 = on plan).
PROJECT_UNITS = {
    "银川市": (0.22, 1.34), "石嘴山市": (0.12, 1.22), "吴忠市": (0.15, 1.06), "固原市": (0.10, 0.70),
    "中卫市": (0.12, 1.28), "宁东基地": (0.13, 1.45), "交通运输厅": (0.07, 1.00), "水利厅": (0.05, 0.84),
    "住房城乡建设厅": (0.04, 1.12),
}
# Units whose money cells are in 亿元: values are drawn in whole 100 万元 so 亿元 cells are exact.
YI_PROJECT_UNITS = {"固原市", "中卫市"}
YI_ATTRACTION_UNITS = {"中卫市", "宁东基地"}

INDUSTRY_POOLS = {
    "银川市": ("电子信息", "葡萄酒", "新型材料", "文化旅游", "城市建设", "社会民生", "商贸物流", "绿色食品", "清洁能源",
            "生态环保"),
    "石嘴山市": ("新型材料", "新型材料", "清洁能源", "电子信息", "城市建设", "社会民生", "生态环保", "商贸物流"),
    "吴忠市": ("奶产业", "奶产业", "清洁能源", "葡萄酒", "肉牛和滩羊", "绿色食品", "社会民生", "城市建设", "文化旅游"),
    "固原市": ("肉牛和滩羊", "肉牛和滩羊", "文化旅游", "绿色食品", "清洁能源", "社会民生", "生态环保", "城市建设"),
    "中卫市": ("电子信息", "电子信息", "枸杞", "清洁能源", "文化旅游", "绿色食品", "社会民生", "商贸物流"),
    "宁东基地": ("新型材料", "新型材料", "新型材料", "清洁能源", "清洁能源", "生态环保", "商贸物流"),
    "交通运输厅": ("交通基础设施",),
    "水利厅": ("水利",),
    "住房城乡建设厅": ("城市建设", "城市建设", "社会民生"),
}
INDUSTRY_CODES = {name: 11 + i for i, name in enumerate((
    "清洁能源", "新型材料", "电子信息", "绿色食品", "葡萄酒", "枸杞", "奶产业", "肉牛和滩羊", "文化旅游",
    "交通基础设施", "水利", "城市建设", "社会民生", "生态环保", "商贸物流", "其他"))}

# Project subjects: (template, lowest n, highest n, step); {a}/{b} are county names.
SUBJECTS: dict[str, tuple[tuple[str, int, int, int], ...]] = {
    "清洁能源": (("{n}万千瓦光伏复合发电", 5, 60, 5), ("{n}万千瓦风电场", 5, 40, 5), ("{n}兆瓦储能电站", 50, 300, 50),
             ("绿氢制储加一体化示范", 0, 0, 0), ("{n}兆瓦分布式光伏", 10, 90, 10)),
    "新型材料": (("年产{n}万吨高性能碳基材料", 1, 20, 1), ("年产{n}吨电子级多晶硅", 1000, 9000, 1000),
             ("年产{n}万吨锂电池正极材料", 1, 10, 1), ("年产{n}万吨可降解塑料", 2, 30, 2),
             ("年产{n}万吨精细化工新材料", 1, 20, 1)),
    "电子信息": (("数据中心{n}号楼", 1, 9, 1), ("年产{n}万片半导体硅片", 10, 120, 10), ("智能终端产业园", 0, 0, 0),
             ("{n}架机柜云计算中心", 1000, 9000, 1000)),
    "绿色食品": (("年产{n}万吨绿色食品加工", 1, 20, 1), ("{n}万吨农产品冷链物流中心", 1, 10, 1),
             ("马铃薯精深加工", 0, 0, 0)),
    "葡萄酒": (("{n}亩酿酒葡萄基地", 1000, 9000, 500), ("酒庄集群{n}期", 1, 3, 1), ("葡萄酒文化旅游小镇", 0, 0, 0)),
    "枸杞": (("年产{n}吨枸杞精深加工", 500, 5000, 500), ("{n}亩枸杞标准化种植基地", 1000, 10000, 1000)),
    "奶产业": (("{n}头奶牛养殖场", 2000, 10000, 1000), ("年产{n}万吨乳制品加工", 5, 30, 5)),
    "肉牛和滩羊": (("{n}头肉牛养殖", 1000, 10000, 1000), ("年屠宰{n}万只滩羊加工", 10, 60, 10),
               ("肉牛交易市场", 0, 0, 0)),
    "文化旅游": (("景区基础设施提升", 0, 0, 0), ("文化旅游综合体", 0, 0, 0), ("乡村旅游示范村", 0, 0, 0),
             ("全域旅游服务中心", 0, 0, 0)),
    "交通基础设施": (("{a}至{b}公路改扩建", 0, 0, 0), ("{a}至{b}一级公路", 0, 0, 0), ("{a}物流园区道路", 0, 0, 0)),
    "水利": (("{n}万亩灌区续建配套与节水改造", 5, 50, 5), ("水库除险加固", 0, 0, 0), ("城乡供水管网延伸", 0, 0, 0),
           ("河道综合治理", 0, 0, 0)),
    "城市建设": (("{n}个老旧小区改造", 5, 60, 5), ("城市地下管网改造{n}期", 1, 3, 1), ("城市供热管网改造", 0, 0, 0),
             ("棚户区改造", 0, 0, 0)),
    "社会民生": (("人民医院门诊综合楼", 0, 0, 0), ("第{n}中学新建", 2, 12, 1), ("养老服务中心", 0, 0, 0),
             ("职业技术学校实训基地", 0, 0, 0)),
    "生态环保": (("污水处理厂提标改造", 0, 0, 0), ("{n}亩生态修复", 1000, 20000, 1000), ("工业固废综合利用", 0, 0, 0)),
    "商贸物流": (("商贸物流园{n}期", 1, 3, 1), ("农产品批发市场", 0, 0, 0), ("电商产业园", 0, 0, 0)),
    "其他": (("装备制造产业园{n}期", 1, 3, 1), ("年产{n}万套汽车零部件制造", 5, 50, 5), ("商业综合体", 0, 0, 0),
           ("职业教育实训基地", 0, 0, 0), ("{n}万吨再生资源综合利用", 5, 50, 5), ("现代物流园区", 0, 0, 0)),
}
NAME_SUFFIXES = ("项目", "建设项目", "工程")
PHASES = ("", "（二期）", "（三期）", "（四期）", "（五期）",
          "（六期）", "（七期）", "（八期）", "（九期）", "（十期）")
SURNAMES = ("王", "李", "张", "刘", "陈", "杨", "马", "赵", "周", "吴", "徐", "孙", "朱", "高", "罗", "郭", "何", "田")
STARTED_PROGRESS = ("主体结构施工", "基础施工", "设备安装调试", "场地平整及土方工程完成", "厂房建设中", "部分建成投产",
                    "主体工程完工，正在进行附属工程", "管网铺设中")
WAITING_PROGRESS = ("前期手续办理中", "正在开展施工招标", "用地手续办理中", "可研报告编制中")
PROBLEMS = (None, None, None, None, "用地指标紧张", "项目资本金到位不足", "环评手续尚在办理", "征地拆迁进度滞后",
            "融资难度较大", "施工季节短，工期紧张")

FIRST_BATCH_DAY = dt.date(2021, 3, 18)  # 集中开工 ceremonies (fictional)
SECOND_BATCH_DAY = dt.date(2021, 6, 28)

ATTRACTION_UNITS = {"银川市": 0.30, "石嘴山市": 0.15, "吴忠市": 0.18, "固原市": 0.10, "中卫市": 0.15, "宁东基地": 0.12}

# 主要指标: unit, name as written, 计量单位, value in the current round, 上年同期 (None: not reported),
# share of the value already reached at the previous round, decimals.
INDICATOR_ROWS = (
    ("发展改革委", "争取中央预算内资金", "亿元", 46.8, 38.9, 0.78, 1),
    ("发展改革委", "安排预算内统筹资金", "亿元", 25.6, None, 0.72, 1),
    ("发展改革委", "九大重点产业奖励资金", "亿元", 8, None, 1.0, 0),
    ("自然资源厅", "已批准用地项目", "个", 168, 151, 0.74, 0),
    ("自然资源厅", "用地预审项目", "个", 96, 88, 0.76, 0),
    ("宁东基地", "新增供地面积", "亩", 860, 720, 0.70, 0),
    ("宁东基地", "企业技术改造投资", "亿元", 86.4, 70.2, 0.72, 1),
    ("宁东基地", "招商引资到位资金", "亿元", None, None, None, 2),  # from its 招商引资 return
    ("银川市", "营商环境改革措施方面", "个", 12, None, 1.0, 0),
    ("银川市", "营商环境改革措施条数", "条", 86, None, 1.0, 0),
    ("石嘴山市", "兑现奖励资金", "万元", 680, None, 0.80, 0),
    ("吴忠市", "谋划储备项目", "个", 236, None, 0.80, 0),
    ("水利厅", "谋划项目大类", "类", 6, None, 1.0, 0),
    ("水利厅", "谋划储备项目", "项", 52, None, 0.85, 0),
    ("交通运输厅", "谋划储备项目数", "个", 8, None, 1.0, 0),
    ("交通运输厅", "储备项目总投资", "亿元", 68.5, None, 1.0, 1),
)

# 固定资产投资: last year's annual amount (亿元), this year's and last year's cumulative growth by month.
FAI_REGIONS = {"全区": 2350.0, "银川市": 880.0, "石嘴山市": 265.0, "吴忠市": 340.0, "固原市": 205.0, "中卫市": 250.0,
               "宁东基地": 330.0}
FAI_SHARE = (0.03, 0.07, 0.15, 0.24, 0.35, 0.47, 0.57, 0.67, 0.77, 0.87, 0.95, 1.0)
FAI_YOY = (48.0, 40.5, 27.3, 18.6, 13.1, 9.8, 7.9, 6.4, 5.3, 4.6, 4.1, 3.8)
FAI_LAST_YOY = (-31.2, -27.5, -17.9, -10.6, -6.3, -3.4, -1.6, 0.2, 1.5, 2.6, 3.3, 3.9)

# 十大工程项目 (names public; every figure fictional, 亿元). Stage, completed and status per round: (current, previous).
MAJOR_WORKS = (
    dict(name="银昆高速宁夏段", lead="交通运输厅", stage=("在建", "在建"),
         total=296.5, plan=48.0, done=(44.6, 30.2),
         milestone="太阳山至彭阳段主体工程基本完工", date=dt.date(2021, 12, 31), status=("按计划推进", "正在推进"),
         progress="路基、桥涵工程全面施工，累计完成路基土石方约八成", problems="部分路段征地拆迁滞后"),
    dict(name="“三山”生态保护和修复工程", lead="自然资源厅", stage=("在建", "在建"),
         total=52.3, plan=12.5, done=(11.8, 7.9),
         milestone="完成年度生态修复治理任务", date=dt.date(2021, 11, 30), status=("已完成", "正在推进"),
         progress="矿山地质环境治理、林草植被恢复等子项目有序实施", problems=None),
    dict(name="城乡供水一体化工程", lead="水利厅", stage=("建设中", "建设中"),
         total=88.6, plan=15.0, done=(13.9, 9.1),
         milestone="新增3个县区实现城乡供水一体化", date=dt.date(2021, 12, 31), status=("按计划推进", "正在推进"),
         progress="水源工程和主干管网加快建设", problems="部分县区配套资金到位不足"),
    dict(name="银川河东国际机场改扩建工程", lead="发展改革委", stage=("前期", "前期"),
         total=95.0, plan=0.8, done=(0.6, 0.3),
         milestone="可行性研究报告获得批复", date=dt.date(2021, 10, 31), status=("已完成", "正在推进"),
         progress="可研报告已获批复，正在开展初步设计", problems=None),
    dict(name="青铜峡抽水蓄能电站", lead="发展改革委", stage=("前期工作", "前期工作"),
         total=85.0, plan=0.5, done=(0.4, 0.2),
         milestone="完成项目核准", date=dt.date(2021, 12, 31), status=("正在推进", "正在推进"),
         progress="预可研已通过审查，正在编制可研报告", problems="需加快办理用地预审"),
    dict(name="宁夏至华中特高压直流输电及配套新能源项目", lead="发展改革委", stage=("前期", "前期"),
         total=620.0, plan=None, done=(None, None),
         milestone="纳入国家电力发展规划", date=dt.date(2021, 9, 30), status=("已完成", "正在推进"),
         progress="已纳入国家规划，配套新能源基地规划编制中", problems="需国家层面协调受端省份"),
    dict(name="黄河宁夏段治理工程", lead="水利厅", stage=("前期", "前期"),
         total=45.0, plan=1.2, done=(0.9, 0.5),
         milestone="可行性研究报告报批", date=dt.date(2021, 11, 30), status=("已完成", "正在推进"),
         progress="可研报告已上报水利部审查", problems=None),
    dict(name="黄河黑山峡河段开发", lead="水利厅", stage=("前期", "前期"),
         total=None, plan=None, done=(None, None),
         milestone="配合国家开展项目论证", date=dt.date(2021, 12, 31), status=("正在推进", "正在推进"),
         progress="积极配合国家有关部委开展论证工作", problems="涉及跨省区协调，前期论证周期长"),
    dict(name="银川至太原高铁", lead="交通运输厅", stage=("前期", "前期"),
         total=410.0, plan=None, done=(None, None),
         milestone="完成预可行性研究报告编制", date=dt.date(2021, 12, 31), status=("正在推进", "正在推进"),
         progress="预可研报告编制中", problems="需与相关省区协调线位方案"),
    dict(name="银川市城市地下轨道交通", lead="银川市", stage=("前期", "前期"),
         total=None, plan=None, done=(None, None),
         milestone="线网规划编制报批", date=dt.date(2021, 12, 31), status=("正在推进", "正在推进"),
         progress="线网规划初稿已完成", problems="需按国家要求完善申报条件"),
)

# 工作举措与典型做法: unit, 板块 as the unit writes it, 内容.
PRACTICES = (
    ("发展改革委", "抓项目的意识",
     "积极履行牵头抓总职责，组织开展“扩大有效投资年”行动，部署“五晒五比五拼”专项活动，全力推动项目建设"),
    ("发展改革委", "项目要素保障",
     "积极争取中央预算内资金，统筹安排自治区预算内资金，优先保障重大项目建设资金需求"),
    ("发展改革委", "十大工程",
     "会同省级包抓领导和牵头部门成立工作专班、制定任务书、细化时序表，主动对接国家部委，"
     "推动“十大工程项目”前期工作取得实质性进展"),
    ("交通运输厅", "压实责任", "实行厅级领导分片包抓推进项目建设，每月现场调度在建交通项目"),
    ("交通运输厅", "项目谋划",
     "围绕完善综合交通运输体系建设，扎实推进重大交通项目前期工作，做好下半年计划开工项目储备"),
    ("住房城乡建设厅", "推进机制", "建立按月评估调度、重大问题随时研究工作机制"),
    ("住房城乡建设厅", "要素保障", "深化工程建设项目审批制度改革，全面推行线上审批，政务服务效能进一步提升"),
    ("自然资源厅", "（三）项目要素保障持续跟进",
     "编制《自治区重点项目用地保障》台账，实施销号式管理，有力保障重大项目落地实施"),
    ("水利厅", "项目谋划招引", "围绕黄河大保护大治理，谋划储备一批重大水利项目"),
    ("商务厅", "招商引资", "组织开展“高质高效招商引资”行动，建立重点招商引资项目台账，定期调度推进"),
    ("农业农村厅", "项目谋划",
     "抢抓列入国家葡萄及葡萄酒产业开放发展综合试验区重大机遇，谋划储备一批农业重大产业化项目"),
    ("银川市", "抓项目意识", "压实各级各部门一把手带头抓项目责任，形成一级抓一级、层层抓落实的工作格局"),
    ("银川市", "推进机制", "完善重大项目三级包抓、专班推进、定期调度工作机制"),
    ("银川市", "要素保障", "出台优化营商环境3.0版政策措施，进一步优化营商环境"),
    ("银川市", "招商引资", "完善招商引资项目管家服务，成立工作专班对接项目落地"),
    ("石嘴山市", "抓项目的意识", "出台重点项目管理办法，明确县区和部门主体责任"),
    ("石嘴山市", "项目推进措施", "安排专项资金对项目推进较快的县区和市直部门进行考核奖励"),
    ("吴忠市", "（二）项目推进措施不断优化", "建立会商制度精准服务重大项目建设，协调解决项目建设堵点难点问题"),
    ("吴忠市", "项目谋划", "围绕扩大有效投资强后劲，谋划储备一批新项目，建立动态调整的项目储备库"),
    ("吴忠市", "招商引资", "组织开展全民招商月活动，集中签约一批“九大产业”项目"),
    ("固原市", "推进措施", "“清单式”管理抓开工、保进度、促投产，一周一检查、半月一盘点、一月一公示"),
    ("中卫市", "抓项目的意识", "坚持“项目为王”理念，市级领导带头包抓重点项目"),
    ("中卫市", "要素保障", "积极解决数据中心、万头奶牛养殖场等项目土地平整及供水供电等问题"),
    ("宁东基地", "推进措施", "紧盯节点抓进度，定期调度项目进展"),
    ("宁东基地", "要素保障", "协调解决煤制烯烃、氨纶等多个重点项目土地问题"),
    ("宁东基地", "谋划招引", "围绕清洁能源、新型材料等产业，开展延链补链强链精准招商"),
)


class SampleError(ValueError):
    """The sample cannot be written; the message (Chinese) says why."""


# --------------------------------------------------------------------------- randomness


def _rng(seed: int, *parts: object) -> np.random.Generator:
    """An independent, reproducible stream per purpose (world part, file, sheet)."""
    return np.random.default_rng([seed, zlib.crc32("/".join(map(str, parts)).encode("utf-8"))])


def _allocate(total: int, weights: list[float], minimum: int) -> list[int]:
    """Split total by weights (largest remainder), every share at least `minimum`."""
    spare = total - minimum * len(weights)
    raw = [spare * w / sum(weights) for w in weights]
    counts = [int(r) for r in raw]
    for i in sorted(range(len(raw)), key=lambda i: (counts[i] - raw[i], i))[: spare - sum(counts)]:
        counts[i] += 1
    return [minimum + c for c in counts]


def _round_to(values: np.ndarray, step: np.ndarray) -> np.ndarray:
    return np.round(values / step) * step


_EPOCH = np.datetime64("1970-01-01", "D")


def _day(d: dt.date) -> int:
    return int((np.datetime64(d, "D") - _EPOCH).astype(int))


def _dates(days: np.ndarray) -> list[dt.date]:
    return (days.astype("int64").astype("datetime64[D]")).astype(object).tolist()


# --------------------------------------------------------------------------- the world


@dataclass
class World:
    seed: int
    n_projects: int
    projects: dict[str, list]  # column -> values, one per project
    cross_duplicate: int  # index of the project two units report
    attraction: dict[str, list]
    indicators: dict[str, list[tuple]]  # round id -> rows
    fai: dict[str, tuple[list[float], list[float], list[float]]]  # region -> (amount 万元, yoy, last yoy) by month
    major_works: list[dict]


def make_world(n_projects: int, seed: int) -> World:
    projects, cross = _make_projects(n_projects, seed)
    attraction = _make_attraction(n_projects, seed)
    return World(seed, n_projects, projects, cross, attraction, _make_indicators(seed, attraction),
                 _make_fai(seed), _make_major_works(seed))


def _make_projects(n: int, seed: int) -> tuple[dict[str, list], int]:
    """The world's projects, as columns; and the index of the project two units both report.

    The random draws happen in one fixed order (the steps below, in turn), so a seed gives the same world."""
    rng = _rng(seed, "projects")
    units = list(PROJECT_UNITS)
    counts = _allocate(n, [PROJECT_UNITS[u][0] for u in units], MIN_PER_UNIT)
    p: dict[str, Any] = {"unit": np.repeat(np.array(units, dtype=object), counts)}
    _project_kinds(p, rng, n, firsts=np.concatenate([[0], np.cumsum(counts)[:-1]]))
    _project_starts(p, rng, n)
    _project_amounts(p, rng, n, units)
    r = rng.random((n, 8))
    texts = [_project_texts(u, row) for u, row in zip(p["unit"], r)]
    names, locations, industries, regions, owners = (list(column) for column in zip(*texts))
    cross = _cross_duplicate(p, names, locations, owners, regions)
    _number_phases(names)
    codes = _project_codes(p, rng, n, regions, industries)
    start_dates = _dates(p["start"])
    started, started_prev, zero = p["started"], p["started_prev"], p["zero"]
    problem_pick = rng.random(n)
    leaders = [f"{SURNAMES[int(x * len(SURNAMES))]}某某" for x in rng.random(n)]
    problems = [PROBLEMS[int(x * len(PROBLEMS))] for x in problem_pick]
    projects = dict(
        unit=p["unit"].tolist(), code=codes, name=names,
        batch=np.where(p["first_batch"], "第一批", "第二批").tolist(), key=p["key"].tolist(), location=locations,
        industry=industries, nature=p["nature"].tolist(), total=p["total"].tolist(), plan=p["plan"].tolist(),
        done=p["done"].tolist(), done_prev=p["done_prev"].tolist(), started=started.tolist(),
        started_prev=started_prev.tolist(), start=start_dates, in_stats=p["in_stats"].tolist(),
        in_stats_prev=p["in_stats_prev"].tolist(), owner=owners, leader=leaders,
        progress=_progress_texts(started, zero, r[:, 7]),
        progress_prev=_progress_texts(started_prev, zero | (p["done_prev"] == 0), r[:, 7]),
        problems=problems, continuing=p["continuing"].tolist(),
    )
    return projects, cross


def _project_kinds(p: dict[str, Any], rng: np.random.Generator, n: int, firsts: np.ndarray) -> None:
    """Batch, key project, nature (新建/续建/改扩建), this year's plan and the total investment."""
    first_batch = rng.random(n) < 0.55
    first_batch[firsts] = True  # every unit has both batches
    first_batch[firsts + 1] = False
    key = np.zeros(n, bool)
    key[rng.choice(n, size=max(1, round(n / 10)), replace=False)] = True
    nature = rng.choice(np.array(["新建", "续建", "改扩建"], dtype=object), size=n, p=[0.6, 0.25, 0.15])
    continuing = nature == "续建"
    plan = np.clip(np.exp(rng.normal(np.log(4500), 1.0, n)) * np.where(key, 3.0, 1.0), 300, 600_000)
    total = plan * rng.uniform(1.5, 6.0, n) * np.where(continuing, 1.4, 1.0)
    p.update(first_batch=first_batch, key=key, nature=nature, continuing=continuing, plan=plan, total=total)


def _project_starts(p: dict[str, Any], rng: np.random.Generator, n: int) -> None:
    """Starting: continuing projects started in earlier years; new ones on their batch's
    ceremony day or some day after, a few not yet. Then who has invested nothing and who is in the statistics."""
    key, first_batch, continuing = p["key"], p["first_batch"], p["continuing"]
    p_waiting = np.where(key, 0.03, np.where(first_batch, 0.07, 0.14))
    p_waiting[continuing] = 0.0
    started = rng.random(n) >= p_waiting
    ceremony = np.where(first_batch, _day(FIRST_BATCH_DAY), _day(SECOND_BATCH_DAY))
    earliest = np.where(first_batch, _day(dt.date(2021, 2, 1)), _day(dt.date(2021, 5, 10)))
    latest = _day(dt.date(2021, 11, 26))
    spread = earliest + (rng.random(n) * (latest - earliest)).astype(int)
    start = np.where(rng.random(n) < np.where(first_batch, 0.45, 0.40), ceremony, spread)
    first_day, last_day = _day(dt.date(2018, 3, 1)), _day(dt.date(2020, 10, 31))
    before = first_day + (rng.random(n) * (last_day - first_day)).astype(int)
    start = np.where(continuing, before, start)
    started_prev = started & (start <= _day(PREVIOUS.as_of))
    zero = started & ~continuing & (rng.random(n) < 0.04)  # started, nothing invested yet
    not_in_stats = started & (rng.random(n) < np.where(continuing, 0.02, 0.07))
    in_stats = started & ~not_in_stats
    in_stats_prev = started_prev & in_stats & ~(rng.random(n) < 0.12)
    p.update(started=started, start=start, started_prev=started_prev, zero=zero, in_stats=in_stats,
             in_stats_prev=in_stats_prev)


def _project_amounts(p: dict[str, Any], rng: np.random.Generator, n: int, units: list[str]) -> None:
    """Completed this year and by the previous round, at each unit's pace; rounded to the unit's money step."""
    unit, plan, start, continuing = p["unit"], p["plan"], p["start"], p["continuing"]
    pace_of = {u: PROJECT_UNITS[u][1] * float(rng.uniform(0.96, 1.04)) for u in units}
    pace = np.array([pace_of[u] for u in unit])
    active_days = np.clip(_day(CURRENT.as_of) - start, 0, None)
    ramp = np.where(continuing, 1.0, np.clip(active_days / 200, 0.3, 1.0))
    rate = np.clip(pace * np.exp(rng.normal(0, 0.28, n)) * ramp, 0.03, 1.5)
    done = np.where(p["started"] & ~p["zero"], plan * rate, 0.0)
    done_prev = np.where(p["started_prev"] & ~p["zero"], done * rng.uniform(0.55, 0.85, n), 0.0)
    step = np.where(np.isin(unit, list(YI_PROJECT_UNITS)), 100.0, 1.0)
    plan = np.maximum(_round_to(plan, step), step)
    done = np.where(done > 0, np.maximum(_round_to(done, step), step), 0.0)
    done_prev = np.where(done_prev > 0, np.minimum(np.maximum(_round_to(done_prev, step), step), done), 0.0)
    total = np.maximum.reduce([_round_to(p["total"], step), plan, done])
    p.update(plan=plan, done=done, done_prev=done_prev, total=total)


def _project_texts(u: str, r: np.ndarray) -> tuple[str, str, str, str, str]:
    """One project's name, location, industry, region code and responsible unit, from its row of draws."""
    pool = INDUSTRY_POOLS[u]
    industry = pool[int(r[0] * len(pool))]
    template, lo, hi, stp = SUBJECTS[industry][int(r[1] * len(SUBJECTS[industry]))]
    number = lo + stp * int(r[2] * ((hi - lo) // stp + 1)) if stp else 0
    county = ALL_COUNTIES[int(r[3] * len(ALL_COUNTIES))]
    other = ALL_COUNTIES[int(r[4] * len(ALL_COUNTIES))]
    if other == county:
        other = ALL_COUNTIES[(ALL_COUNTIES.index(county) + 7) % len(ALL_COUNTIES)]
    suffix = NAME_SUFFIXES[int(r[5] * len(NAME_SUFFIXES))]
    subject = template.format(n=number, a=county, b=other)
    if u in COUNTIES:
        county = COUNTIES[u][int(r[6] * len(COUNTIES[u]))]
        place, location, owner = county, f"{u}{county}", f"{county}人民政府"
    elif u == "宁东基地":
        area = NINGDONG_AREAS[int(r[6] * len(NINGDONG_AREAS))]
        place, location, owner = f"宁东{area}", f"宁东基地{area}", "宁东基地管委会"
    elif u == "交通运输厅":
        city = COUNTY_CITY[county]
        place, location, owner = "", f"{city}{county}", f"{city}交通运输局"
    elif u == "水利厅":
        place, location, owner = county, f"{COUNTY_CITY[county]}{county}", f"{county}水务局"
    else:  # 住房城乡建设厅
        city = CITIES[int(r[6] * len(CITIES))]
        place, location, owner = city, city, f"{city}住房和城乡建设局"
    return f"{place}{subject}{suffix}", location, industry, REGION_CODES.get(u) or _city_of(location), owner


def _cross_duplicate(p: dict[str, Any], names: list, locations: list, owners: list, regions: list) -> int:
    """The project both 银川市 and 交通运输厅 report: a transport project in 银川's first batch."""
    unit, first_batch, started, done = p["unit"], p["first_batch"], p["started"], p["done"]
    transport = [i for i in range(len(unit)) if unit[i] == "交通运输厅"]
    cross = next((i for i in transport if first_batch[i] and started[i] and done[i] > 0), transport[0])
    first_batch[cross], started[cross] = True, True
    names[cross] = "银川至灵武快速通道改扩建工程"
    locations[cross], owners[cross], regions[cross] = "银川市兴庆区", "银川市交通运输局", REGION_CODES["银川市"]
    return cross


def _number_phases(names: list[str]) -> None:
    """A name used twice becomes 二期, 三期 …"""
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        k = seen.get(name, 0)
        seen[name] = k + 1
        if k:
            names[i] = f"{name}{PHASES[k] if k < len(PHASES) else f'（{k + 1}期）'}"


def _project_codes(p: dict[str, Any], rng: np.random.Generator, n: int, regions: list, industries: list) -> list[str]:
    """Each project's code: year-region-industry-kind-serial."""
    start_year = p["start"].astype("datetime64[D]").astype("datetime64[Y]").astype(int) + 1970
    years = np.minimum(np.where(p["continuing"], rng.integers(2017, 2021, n), rng.integers(2020, 2022, n)),
                       start_year)
    kinds = rng.integers(1, 4, n)
    serial = rng.permutation(n) + 1
    return [f"{years[i]}-{regions[i]}-{INDUSTRY_CODES[industries[i]]:02d}-{kinds[i]:02d}-{serial[i]:06d}"
            for i in range(n)]


def _progress_texts(is_started: np.ndarray, zero_now: np.ndarray, pick: np.ndarray) -> list[str]:
    """The 进展情况 text of each project: waiting, started with nothing invested, or one of the started phrases."""
    out = []
    for i in range(len(pick)):
        if not is_started[i]:
            out.append(WAITING_PROGRESS[int(pick[i] * len(WAITING_PROGRESS))])
        elif zero_now[i]:
            out.append("已开工，正在进行施工准备")
        else:
            out.append(STARTED_PROGRESS[int(pick[i] * len(STARTED_PROGRESS))])
    return out


def _city_of(location: str) -> str:
    return REGION_CODES[next(c for c in CITIES if location.startswith(c))]


def _make_attraction(n_projects: int, seed: int) -> dict[str, list]:
    rng = _rng(seed, "attraction")
    units = list(ATTRACTION_UNITS)
    n = max(40, round(n_projects * 0.55))
    counts = _allocate(n, [ATTRACTION_UNITS[u] for u in units], 5)
    unit = np.repeat(np.array(units, dtype=object), counts)
    ningdong = unit == "宁东基地"
    contract = np.clip(np.exp(rng.normal(np.log(15000), 1.1, n)) * np.where(ningdong, 3.5, 1.0), 500, 3_000_000)
    status = rng.choice(np.array(["签约", "开工", "投产"], dtype=object), size=n, p=[0.35, 0.5, 0.15])
    funds = contract * np.where(status == "签约", rng.uniform(0, 0.05, n), rng.uniform(0.1, 0.6, n))
    chain = rng.random(n) < np.where(ningdong, 0.6, 0.3)
    concentrated = rng.random(n) < 0.45
    # Two signing ceremonies per unit: one in spring, one in autumn (after the previous round).
    spring = {u: _day(dt.date(2021, 4, 8)) + int(rng.integers(0, 20)) for u in units}
    autumn = {u: _day(dt.date(2021, 9, 6)) + int(rng.integers(0, 20)) for u in units}
    which = rng.random(n) < 0.5
    single = (_day(dt.date(2021, 1, 5))
              + (rng.random(n) * (_day(dt.date(2021, 11, 28)) - _day(dt.date(2021, 1, 5)))).astype(int))
    sign = np.array([(spring[u] if w else autumn[u]) if c else s
                     for u, w, c, s in zip(unit, which, concentrated, single)])
    # At the previous round some projects were one step behind and had less money in place.
    back = rng.random(n)
    status_prev = np.where((status == "投产") & (back < 0.5), "开工",
                           np.where((status == "开工") & (back < 0.3), "签约", status))
    funds_prev = funds * rng.uniform(0.45, 0.8, n)

    step = np.where(np.isin(unit, list(YI_ATTRACTION_UNITS)), 100.0, 1.0)
    contract = np.maximum(_round_to(contract, step), step)
    funds = np.minimum(_round_to(funds, step), contract)
    funds_prev = np.minimum(_round_to(funds_prev, step), funds)

    nine = set(schemas.NINE_INDUSTRIES)
    r = rng.random((n, 6))
    names, industries = [], []
    for i in range(n):
        u = unit[i]
        pool = [x for x in INDUSTRY_POOLS[u] if x in nine]
        industry = "其他" if r[i, 0] < 0.2 else pool[int(r[i, 1] * len(pool))]
        template, lo, hi, stp = SUBJECTS[industry][int(r[i, 2] * len(SUBJECTS[industry]))]
        number = lo + stp * int(r[i, 3] * ((hi - lo) // stp + 1)) if stp else 0
        place = (COUNTIES[u][int(r[i, 4] * len(COUNTIES[u]))] if u in COUNTIES
                 else f"宁东{NINGDONG_AREAS[int(r[i, 5] * len(NINGDONG_AREAS))]}")
        names.append(f"{place}{template.format(n=number, a=place, b=place)}项目")
        industries.append(industry)
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        k = seen.get(name, 0)
        seen[name] = k + 1
        if k:
            names[i] = f"{name}{PHASES[k] if k < len(PHASES) else f'（{k + 1}期）'}"
    order = sorted(range(n), key=lambda i: (units.index(unit[i]), sign[i], i))
    pick = lambda values: [values[i] for i in order]  # noqa: E731
    return dict(
        unit=pick(unit.tolist()), name=pick(names), sign=pick(_dates(sign)),
        mode=pick(np.where(concentrated, "集中签约", "单独签约").tolist()), industry=pick(industries),
        chain=pick(chain.tolist()), contract=pick(contract.tolist()), funds=pick(funds.tolist()),
        funds_prev=pick(funds_prev.tolist()), status=pick(status.tolist()), status_prev=pick(status_prev.tolist()),
    )


def _make_indicators(seed: int, attraction: dict[str, list]) -> dict[str, list[tuple]]:
    """Round id -> rows (unit, name, 计量单位, 本期累计, 上年同期, decimals)."""
    rng = _rng(seed, "indicators")
    out: dict[str, list[tuple]] = {CURRENT.id: [], PREVIOUS.id: []}
    ningdong = [i for i, u in enumerate(attraction["unit"]) if u == "宁东基地"]
    for unit, name, measure, value, last, reached, decimals in INDICATOR_ROWS:
        if value is None:  # 宁东基地 招商引资到位资金 = what its 招商引资 return says is in place
            growth = float(rng.uniform(1.2, 1.4))
            cur = round(sum(attraction["funds"][i] for i in ningdong) / 10_000, 2)
            prev = round(sum(attraction["funds_prev"][i] for i in ningdong
                             if attraction["sign"][i] <= PREVIOUS.as_of) / 10_000, 2)
            out[CURRENT.id].append((unit, name, measure, cur, round(cur / growth, 2), decimals))
            out[PREVIOUS.id].append((unit, name, measure, prev, round(prev / growth, 2), decimals))
            continue
        wobble = float(rng.uniform(0.92, 1.08))
        cur = value * wobble
        ly = last * wobble * float(rng.uniform(0.95, 1.05)) if last is not None else None
        for rid, share in ((CURRENT.id, 1.0), (PREVIOUS.id, reached)):
            out[rid].append((unit, name, measure, _rounded(cur * share, decimals),
                             None if ly is None else _rounded(ly * share, decimals), decimals))
    return out


def _rounded(x: float, decimals: int) -> float | int:
    return int(round(x)) if decimals == 0 else round(x, decimals)


def _make_fai(seed: int) -> dict[str, tuple[list[float], list[float], list[float]]]:
    rng = _rng(seed, "fai")
    out = {}
    for region, base in FAI_REGIONS.items():
        spread, noise = (0.3, 0.2) if region == "全区" else (6.0, 0.8)
        shift, shift_last = rng.uniform(-spread, spread), rng.uniform(-spread * 0.7, spread * 0.7)
        yoy = [round(y + shift + rng.uniform(-noise, noise), 1) for y in FAI_YOY]
        last = [round(y + shift_last + rng.uniform(-noise, noise), 1) for y in FAI_LAST_YOY]
        amount = [round(base * s * (1 + g / 100), 1) * 10_000 for s, g in zip(FAI_SHARE, yoy)]  # 万元, 0.1 亿元 steps
        out[region] = (amount, yoy, last)
    return out


def _make_major_works(seed: int) -> list[dict]:
    rng = _rng(seed, "major_works")
    out = []
    for item in MAJOR_WORKS:
        wobble = float(rng.uniform(0.95, 1.05))
        money = lambda v: None if v is None else round(v * wobble, 2) * 10_000  # noqa: E731 - 万元, whole 0.01 亿元
        out.append({**item, "total": money(item["total"]), "plan": money(item["plan"]),
                    "done": tuple(money(v) for v in item["done"]),
                    "leader": f"{SURNAMES[int(rng.integers(0, len(SURNAMES)))]}某某"})
    return out


# --------------------------------------------------------------------------- grids


@dataclass
class Col:
    field: str  # canonical column name, or a name starting with _ for a column no schema knows
    label: str  # header text as written (may hold a line break)
    parents: tuple[str, ...] = ()  # the merged header levels above it, top first

    @property
    def group(self) -> str | None:
        """The merged header right above it, if any."""
        return self.parents[-1] if self.parents else None

    @property
    def written(self) -> str:
        return written_header(self.label)


def written_header(text: str) -> str:
    """A header as it is quoted back to the unit: line breaks collapsed."""
    return re.sub(r"\s*[\r\n]+\s*", "", text).strip()


def _cols(spec: str) -> list[Col]:
    """'seq=序号|annual_plan=2021年投资>计划' -> columns; '>' separates the header levels, top first."""
    out = []
    for part in spec.split("|"):
        name, label = part.split("=", 1)
        *parents, sub = label.split(">")
        out.append(Col(name, sub, tuple(parents)))
    return out


@dataclass
class Grid:
    """One sheet as written: rows of cell values (None = empty), each row with a role."""

    name: str
    kind: str | None
    rows: list[list[Any]] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)  # title unit header data group total blank footer note
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)  # 0-based, inclusive
    cols: list[Col] = field(default_factory=list)
    date_format: str = "yyyy-mm-dd"

    def add(self, cells: list[Any], role: str) -> int:
        self.rows.append(cells)
        self.roles.append(role)
        return len(self.rows)  # the Excel row number

    def rows_of(self, role: str) -> list[int]:
        return [i + 1 for i, r in enumerate(self.roles) if r == role]


@dataclass
class Book:
    """One file of a round."""

    path: str  # relative to the round folder, forward slashes
    format: str  # xlsx | xls | csv
    unit: str
    unit_from: str  # folder | file_name | footer: where a reader can learn the unit
    title: str
    encoding: str | None = None  # csv only: gb18030 or utf-8-sig
    sheets: list[Grid] = field(default_factory=list)


@dataclass
class Style:
    """How one unit writes values."""

    money: str = "万元"  # unit of the money cells
    numbers: str = "plain"  # plain | some_text | thousands | some_fullwidth
    dates: str = "excel"  # excel | dot | cn | slash | month | iso | mixed
    yes_no: tuple[str, str] = ("是", "否")
    bools: dict[str, tuple[str, str]] = field(default_factory=dict)  # per column
    empty: tuple[str, ...] = ("—",)  # "" writes an empty cell
    shown: dict[str, str] = field(default_factory=dict)  # canonical value -> as written (一批, 集中 …)
    date_format: str = "yyyy-mm-dd"
    idle_done: str | None = None  # how a not-started project's 0 累计完成投资 is written ("—", "" = empty)


_FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def _num_text(x: float | int, thousands: bool = False) -> str:
    if float(x).is_integer():
        return f"{int(x):,}" if thousands else str(int(x))
    return (f"{x:,.2f}" if thousands else f"{x:.2f}").rstrip("0").rstrip(".")


def _number_cell(x: float | int, style: Style, r: float) -> Any:
    if style.numbers == "thousands" and abs(x) >= 1000:
        return _num_text(x, thousands=True)
    if style.numbers == "some_text" and r < 0.15 and abs(x) >= 1000:
        return _num_text(x, thousands=True)
    if style.numbers == "some_fullwidth" and r < 0.12:
        return _num_text(x).translate(_FULLWIDTH)
    return x


def _money_shown(value_wan: float, unit: str) -> float | int:
    """A 万元 amount as the sheet writes it (exact: the world draws 亿元 units in whole 100 万元)."""
    if unit == "亿元":
        return round(value_wan / 10_000, 2)
    return int(round(value_wan))


def _date_text(d: dt.date, how: str) -> Any:
    if how == "excel":
        return d
    if how == "dot":
        return f"{d.year}.{d.month}.{d.day}"
    if how == "cn":
        return f"{d.year}年{d.month}月{d.day}日"
    if how == "slash":
        return f"{d.year}/{d.month}/{d.day}"
    if how == "month":
        return f"{d.year}/{d.month}"
    return d.isoformat()


def _date_cell(d: dt.date, style: Style, r: float) -> Any:
    how = style.dates
    if how == "mixed":
        how = ("excel", "dot", "cn", "month")[min(3, int(r * 4))]
    return _date_text(d, how)


def _render(rec: dict, cols: list[Col], types: dict[str, str], style: Style, rs: np.ndarray, seq: int) -> list[Any]:
    overrides = rec.get("_ov", {})
    out: list[Any] = []
    for j, col in enumerate(cols):
        name = col.field
        if name in overrides:
            out.append(overrides[name])
            continue
        if name == "completed" and style.idle_done is not None and rec.get("started") is False and "_mk" not in rec:
            out.append(style.idle_done or None)  # not started: “—” or nothing, which means 0
            continue
        kind = types.get(name, TEXT)
        value = rec.get(name)
        r = float(rs[j])
        if kind == SEQ:
            out.append(seq)
        elif value is None:
            marker = style.empty[min(len(style.empty) - 1, int(r * len(style.empty)))]
            out.append(marker or None)
        elif kind == MONEY:
            out.append(_number_cell(_money_shown(value, style.money), style, r))
        elif kind == NUMBER:
            out.append(_number_cell(value, style, r))
        elif kind == BOOL:
            yes, no = style.bools.get(name, style.yes_no)
            out.append(yes if value else no)
        elif kind == DATE:
            out.append(_date_cell(value, style, r))
        else:
            out.append(style.shown.get(value, value) if isinstance(value, str) else value)
    return out


def _sheet_top(grid: Grid, title: str, unit_line: str | None, unit_at_right: bool, gap_after_title: bool) -> None:
    """The title row (merged across), a blank row or a unit row if any, and the header rows."""
    width = len(grid.cols)
    row = grid.add(_line(title, width), "title")
    grid.merges.append((row - 1, 0, row - 1, width - 1))
    if gap_after_title:
        grid.add([None] * width, "blank")
    if unit_line:
        cells = [None] * width
        cells[width - 1 if unit_at_right else 0] = unit_line
        grid.add(cells, "unit")
    _header_rows(grid, grid.cols)


def _header_rows(grid: Grid, cols: list[Col]) -> None:
    """One header row per level: a level shared by neighbouring columns is merged across them,
    and a column with fewer levels is merged down to the last header row."""
    top, height, width = len(grid.rows), 1 + max(len(c.parents) for c in cols), len(cols)
    levels = [c.parents + (c.label,) for c in cols]
    for k in range(height):
        cells: list[Any] = [None] * width
        j = 0
        while j < width:
            path = levels[j]
            if k >= len(path):
                j += 1
                continue
            if k == len(path) - 1:  # the column's own label: down to the last header row
                cells[j] = path[k]
                if k < height - 1:
                    grid.merges.append((top + k, j, top + height - 1, j))
                j += 1
                continue
            end = j
            while end + 1 < width and len(levels[end + 1]) > k + 1 and levels[end + 1][:k + 1] == path[:k + 1]:
                end += 1
            cells[j] = path[k]
            if end > j:
                grid.merges.append((top + k, j, top + k, end))
            j = end + 1
        grid.add(cells, "header")


def _line(text: str, width: int) -> list[Any]:
    return [text] + [None] * (width - 1)


@dataclass
class Outline:
    """Group headings and named 小计 rows of one sheet (see _table)."""

    headings: dict[int, tuple[str, int]]  # index of the first group -> (heading, how many groups it covers)
    subtotals: list[str] | None = None  # per group, the 小计 label written after it (None: no 小计 rows)
    delta: dict[int, dict[str, float]] = field(default_factory=dict)  # heading -> column -> amount added (planted)


def _table(name: str, kind: str, *, title: str, cols: list[Col], groups: list[list[dict]], style: Style,
           rng: np.random.Generator, footer: list[str], unit_line: str | None = None, unit_at_right: bool = False,
           totals: bool = False, subtotals: bool = False, total_delta: dict[str, float] | None = None,
           gap_after_title: bool = False, gap_between: bool = False, outline: "Outline | None" = None,
           notes_below: tuple[str, ...] = ()) -> tuple[Grid, list[tuple[dict, int]], dict]:
    """Lay out one return sheet; returns the grid, (record, Excel row) pairs and the facts of its
    合计 row ("row", "columns") and of a group heading given a wrong amount ("heading").

    A sheet holding a planted mistake gets no 小计/合计 rows unless the mistake is the
    合计 itself, so every planted mistake is the only thing wrong where it sits.
    outline: group headings (一、产业项目（12个）) over the groups and 小计 labels written in the
    name column (兴庆区小计), each carrying the sums of its rows.
    notes_below: rows between the table and the footer (注：本表金额单位为亿元).
    """
    types = {c.name: c.type for c in schemas.RETURN_KINDS[kind].columns}
    grid = Grid(name, kind, cols=cols, date_format=style.date_format)
    _sheet_top(grid, title, unit_line, unit_at_right, gap_after_title)
    records = [rec for group in groups for rec in group]
    planted = any("_mk" in rec for rec in records)
    totals, subtotals = totals and not planted, subtotals and not planted
    sums = _Sums(cols, [j for j, c in enumerate(cols) if types.get(c.field) == MONEY], style.money,
                 next((j for j, c in enumerate(cols) if c.field in ("project_name", "indicator", "region")), 1))
    draws = rng.random((max(1, len(records)), len(cols)))
    placed, total_facts = _table_body(grid, groups, types, style, draws, sums, outline, subtotals, gap_between)
    if totals and records:
        cells, facts = sums.total_row("合计", records, total_delta)
        row = grid.add(cells, "total")
        grid.merges.append((row - 1, 0, row - 1, 1))
        total_facts.update({"row": row, "columns": facts})
    _table_foot(grid, notes_below, footer)
    return grid, placed, total_facts


@dataclass
class _Sums:
    """The 合计/小计/group rows of one sheet: the sums of its money columns, as the return shows them."""
    cols: list[Col]
    money: list[int]  # the indexes of the money columns
    unit: str  # the sheet's money unit
    name_at: int  # the column a group heading's label is written in

    def total_row(self, label: str, recs: list[dict], delta: dict[str, float] | None = None) -> tuple[list[Any], dict]:
        cells, facts = _line(label, len(self.cols)), {}
        for j in self.money:
            field_ = self.cols[j].field
            shown = [_money_shown(r[field_], self.unit) for r in recs if r.get(field_) is not None]
            true = round(sum(shown), 2) if self.unit == "亿元" else int(sum(shown))
            written = true + (delta or {}).get(field_, 0)
            cells[j] = written
            facts[field_] = (written, true)
        return cells, facts

    def labelled_row(self, label: str, recs: list[dict],
                     delta: dict[str, float] | None = None) -> tuple[list[Any], dict]:
        cells, facts = self.total_row(label, recs, delta)
        cells[0], cells[self.name_at] = None, label  # the label in the name column, 序号 left empty
        return cells, facts


def _table_body(grid: Grid, groups: list[list[dict]], types: dict[str, str], style: Style, draws: np.ndarray,
                sums: _Sums, outline: "Outline | None", subtotals: bool,
                gap_between: bool) -> tuple[list[tuple[dict, int]], dict]:
    """The groups of rows, each under its heading (outline) and over its 小计; the placed records and heading facts."""
    width = len(grid.cols)
    placed: list[tuple[dict, int]] = []
    seq, total_facts = 0, {}
    for g, group in enumerate(groups):
        if outline and g in outline.headings:
            label, covers = outline.headings[g]
            delta = outline.delta.get(g)
            cells, facts = sums.labelled_row(label, [r for grp in groups[g:g + covers] for r in grp], delta)
            row = grid.add(cells, "group")
            if delta:
                total_facts["heading"] = {"row": row, "label": label, "columns": facts}
        for rec in group:
            cells = _render(rec, grid.cols, types, style, draws[seq], seq + 1)
            seq += 1
            placed.append((rec, grid.add(cells, "data")))
        if outline and outline.subtotals and group:
            grid.add(sums.labelled_row(outline.subtotals[g], group)[0], "total")
        elif subtotals and group:
            row = grid.add(sums.total_row("小计", group)[0], "total")
            grid.merges.append((row - 1, 0, row - 1, 1))
        if gap_between and g < len(groups) - 1:
            grid.add([None] * width, "blank")
    return placed, total_facts


def _table_foot(grid: Grid, notes_below: tuple[str, ...], footer: list[str]) -> None:
    """A blank row, the notes under the table, and the footer lines (填报单位, 填报日期) merged across the table."""
    width = len(grid.cols)
    grid.add([None] * width, "blank")
    for text in notes_below:
        grid.add(_line(text, width), "note")
    for text in footer:
        row = grid.add(_line(text, width), "footer")
        grid.merges.append((row - 1, 0, row - 1, width - 1))


def _notes_sheet(money: str) -> Grid:
    grid = Grid("填表说明", None)
    for text in (f"填表说明{SAMPLE_NOTE}",
                 f"1．本表金额单位为{money}，“累计完成投资”填写本年1月至数据截至月的累计数。",
                 "2．“是否开工”“是否入统”请填写“是”或“否”。",
                 "3．开工时间请填写实际开工日期，如2021年3月15日。",
                 "4．同一项目只在一个批次中填报，不得重复填报。",
                 "5．请于每月5日前报送，逾期视为未报送。"):
        grid.add([text], "note")
    return grid


# --------------------------------------------------------------------------- layouts

PROJECT_HEADERS = {
    "银川市": "seq=序号|project_code=项目编号|project_name=项目名称|is_key=是否重点项目|location=所在市/县区"
             "|industry=行业领域|nature=建设性质|total_investment=总投资|annual_plan=2021年投资>计划|completed=2021年投资>完成"
             "|started=是否开工|start_date=开工时间|in_stats=是否入统|responsible_unit=责任单位|leader=包抓领导"
             "|progress=形象进度|problems=存在问题",
    "石嘴山市": "seq=序号|project_name=项目名称|project_code=项目代码|batch=开工批次|is_key=是否重点|location=建设地点"
             "|industry=产业类别|nature=建设性质|total_investment=计划总投资|annual_plan=年度投资>计划|completed=年度投资>完成"
             "|started=开工情况|start_date=开工日期|in_stats=是否纳入统计|responsible_unit=项目责任单位|leader=包抓责任领导"
             "|progress=项目进展情况|problems=存在的问题",
    "吴忠市": "seq=序号|project_code=统一项目代码|project_name=项目名称|batch=批次|is_key=重点项目|location=所在县区"
             "|industry=行业领域|nature=建设性质|total_investment=项目总投资（万元）|annual_plan=本年计划投资（万元）"
             "|completed=1-{m}月完成投资（万元）|started=是否已开工|start_date=实际开工时间|in_stats=入统情况"
             "|responsible_unit=责任单位|leader=包抓领导|progress=形象进度|problems=存在困难和问题",
    "固原市": "seq=序号|project_code=项目编号|project_name=项目名称|batch=批次|is_key=是否重点项目"
             "|location=所在市（县、区）"
             "|industry=行业领域|nature=建设性质|total_investment=总投资（亿元）|annual_plan=年度计划投资\n（亿元）"
             "|completed=累计完成投资\n（亿元）|started=是否开工|start_date=开工时间|in_stats=是否入统|responsible_unit=责任单位"
             "|leader=包抓领导|progress=形象进度|problems=存在问题",
    "中卫市": "seq=序号|project_code=项目编号|project_name=项目名称|batch=批次|is_key=是否\n重点项目"
             "|location=所在市/县区"
             "|industry=行业\n领域|nature=建设\n性质|total_investment=总投资|annual_plan=年度\n计划投资|completed=累计完成\n投资"
             "|started=是否\n开工|start_date=开工\n时间|in_stats=是否\n入统|responsible_unit=责任单位|leader=包抓领导"
             "|progress=形象进度|problems=存在问题",
    "宁东基地": "seq=序号|project_code=项目编号|project_name=项目名称|batch=批次|is_key=是否重点项目|location=所在地"
             "|industry=行业类别|nature=建设性质|total_investment=总投资|annual_plan=年度计划投资|completed=本年累计完成投资"
             "|started=是否开工|start_date=开工时间|in_stats=是否入统|responsible_unit=责任单位|leader=包抓领导"
             "|progress=形象进度|problems=存在问题",
    "交通运输厅": "seq=序号|project_code=项目编号|project_name=项目名称|batch=批次|is_key=是否重点项目"
             "|location=所在市/县区"
             "|industry=行业领域|nature=建设性质|total_investment=计划总投资|annual_plan=本年投资>计划"
             "|completed=本年投资>累计完成|started=是否开工|start_date=开工时间|in_stats=是否入统|responsible_unit=责任单位"
             "|leader=包抓领导|progress=形象进度|problems=存在问题",
    "水利厅": "seq=序号|project_code=项目编号|project_name=项目名称|batch=批次|is_key=是否重点项目|location=所在地区"
             "|industry=所属行业|nature=建设性质|total_investment=总投资|annual_plan=年度计划|completed=累计完成投资"
             "|started=开工情况|start_date=开工时间|in_stats=是否纳统|responsible_unit=项目建设单位|leader=包抓领导"
             "|progress=形象进度|problems=存在问题",
    # Three header rows: 投资情况（万元） over 项目总投资 and 2021年投资, which is over 年度计划 and 1-N月完成.
    "住房城乡建设厅": "seq=序号|project_code=项目编号|project_name=项目名|batch=批次|is_key=是否重点项目"
             "|location=所在市/县区"
             "|industry=行业领域|nature=建设性质|total_investment=投资情况（万元）>项目总投资"
             "|annual_plan=投资情况（万元）>2021年投资>年度计划|completed=投资情况（万元）>2021年投资>1-{m}月完成"
             "|stated_completion_pct=完成率(%)|started=是否开工|start_date=开工时间|in_stats=是否入统|responsible_unit=项目责任单位"
             "|leader=包抓领导|progress=进展情况|problems=存在问题",
}


@dataclass
class Layout:
    path: str  # may hold {m}, the data month; a second workbook gets （2） before the suffix
    format: str
    unit_from: str
    style: Style
    title: str  # may hold {m}
    encoding: str | None = None
    unit_line: str | None = None
    unit_at_right: bool = False
    sheet: str = "Sheet1"
    by_batch: bool = False  # one sheet per batch, named after it
    totals: bool = False
    subtotals: bool = False
    gap_after_title: bool = False
    gap_between: bool = False
    notes: bool = False  # a 填表说明 sheet first
    outline: bool = False  # 一、产业项目（N个） headings with their sums, and a 某某区小计 row per county
    unit_note: str | None = None  # a note below the table stating the money unit (and no unit row)


_TITLE = "{u}2021年集中开工重大项目进展情况表（截至{m}月底）" + SAMPLE_NOTE

PROJECT_LAYOUTS = {
    "银川市": Layout("银川市/银川市重大项目进展情况表（{m}月）.xlsx", "xlsx", "folder",
                  Style(numbers="some_text", dates="excel"),
                  "银川市2021年{batch}集中开工重大项目进展情况表" + SAMPLE_NOTE,
                  unit_line="单位：万元", by_batch=True, totals=True, notes=True),
    "石嘴山市": Layout("石嘴山市2021年重大项目进展情况（{m}月）.xls", "xls", "file_name",
                   Style(dates="dot", bools={"started": ("已开工", "未开工")}, empty=("—", "/")), _TITLE,
                   unit_line="单位：万元", unit_at_right=True, sheet="重大项目", totals=True, outline=True),
    "吴忠市": Layout("吴忠市/附件1.csv", "csv", "folder",
                  Style(numbers="thousands", dates="slash", bools={"in_stats": ("已入统", "未入统")},
                        empty=("—", "-", "无"), shown={"第一批": "一批", "第二批": "二批"}, idle_done="—"),
                  _TITLE, encoding="gb18030"),
    "固原市": Layout("附件2.xls", "xls", "footer",
                  Style(money="亿元", dates="excel", date_format="yyyy/m/d", idle_done=""),
                  "2021年集中开工重大项目进展情况表" + SAMPLE_NOTE, sheet="项目进展", totals=True,
                  gap_after_title=True),
    "中卫市": Layout("中卫市/中卫市重大项目进展情况表.xlsx", "xlsx", "folder",
                  Style(money="亿元", numbers="some_fullwidth", dates="cn", empty=("", "—")), _TITLE,
                  sheet="中卫市", unit_note="注：本表金额单位为亿元。"),
    "宁东基地": Layout("宁东基地重大项目进展情况表（{m}月）.xlsx", "xlsx", "file_name",
                   Style(dates="excel", yes_no=("√", "×"), date_format='yyyy"年"m"月"d"日"'), _TITLE,
                   unit_line="单位：万元", sheet="重大项目"),
    "交通运输厅": Layout("交通运输厅/附件1.xlsx", "xlsx", "folder",
                    Style(numbers="some_text", dates="dot", bools={"started": ("已开工", "未开工")}), _TITLE,
                    unit_line="单位：万元", unit_at_right=True, sheet="重大项目", notes=True),
    "水利厅": Layout("水利厅重大项目进展情况表.csv", "csv", "file_name",
                  Style(dates="iso", empty=("", "无"), bools={"started": ("已开工", "未开工")}), _TITLE,
                  encoding="utf-8-sig"),
    "住房城乡建设厅": Layout("住房城乡建设厅/重大项目进展情况表.xlsx", "xlsx", "folder",
                      Style(dates="month", empty=("—", "/")), _TITLE, sheet="重大项目", totals=True),
}

ATTRACTION_LAYOUTS = {
    "银川市": (Layout("银川市/银川市招商引资项目情况表.xlsx", "xlsx", "folder", Style(numbers="some_text"),
                   "银川市2021年招商引资项目情况表（截至{m}月底）" + SAMPLE_NOTE, unit_line="单位：万元",
                   sheet="招商引资", totals=True),
            "seq=序号|project_name=项目名称|sign_date=签约时间|sign_mode=签约方式|industry=产业类别"
            "|is_chain=是否延链补链强链|contract_investment=合同投资额|funds_in_place=本年到位资金|status=项目状态"),
    "石嘴山市": (Layout("石嘴山市招商引资项目情况表（{m}月）.xlsx", "xlsx", "file_name", Style(dates="dot"),
                    "石嘴山市招商引资项目情况表" + SAMPLE_NOTE, unit_line="单位：万元", unit_at_right=True,
                    sheet="Sheet1"),
             "seq=序号|project_name=项目名称|sign_date=签约日期|sign_mode=签约方式|industry=所属产业"
             "|is_chain=延链补链强链|contract_investment=签约投资额|funds_in_place=到位资金|status=项目进展"),
    "吴忠市": (Layout("吴忠市/附件3.xls", "xls", "folder",
                   Style(dates="cn", shown={"集中签约": "集中", "单独签约": "单独", "签约": "已签约", "开工": "已开工",
                                            "投产": "已投产"}),
                   "吴忠市2021年招商引资项目情况表" + SAMPLE_NOTE, sheet="招商引资", totals=True),
            "seq=序号|project_name=项目名称|sign_date=签约时间|sign_mode=签约方式|industry=产业领域"
            "|is_chain=是否延链补链强链项目|contract_investment=协议投资额（万元）|funds_in_place=本年实际到位资金（万元）"
            "|status=项目状态"),
    "固原市": (Layout("固原市/固原市招商引资项目情况表.csv", "csv", "folder", Style(numbers="thousands", dates="slash"),
                   "固原市招商引资项目情况表（截至{m}月底）" + SAMPLE_NOTE, encoding="gb18030"),
            "seq=序号|project_name=项目名称|sign_date=签约时间|sign_mode=签约方式|industry=产业类别"
            "|is_chain=是否延链补链强链|contract_investment=合同投资额（万元）|funds_in_place=本年到位资金（万元）|status=项目状态"),
    "中卫市": (Layout("中卫市招商引资项目情况表（{m}月）.xlsx", "xlsx", "file_name",
                   Style(money="亿元", numbers="some_fullwidth", dates="cn"),
                   "中卫市招商引资项目情况表" + SAMPLE_NOTE, unit_line="单位：亿元", sheet="招商项目"),
            "seq=序号|project_name=项目名称|sign_date=签约时间|sign_mode=签约方式|industry=产业类别"
            "|is_chain=是否延链补链强链|contract_investment=合同投资额|funds_in_place=本年到位资金|status=项目状态"),
    "宁东基地": (Layout("宁东基地/招商引资项目情况表.xlsx", "xlsx", "folder", Style(money="亿元", yes_no=("√", "×")),
                    "宁东基地招商引资项目情况表（截至{m}月底）" + SAMPLE_NOTE, sheet="招商引资"),
             "seq=序号|project_name=项目名称|sign_date=签约时间|sign_mode=签约方式|industry=产业类别"
             "|is_chain=是否延链\n补链强链|contract_investment=投资情况（亿元）>合同投资额"
             "|funds_in_place=投资情况（亿元）>本年到位资金|status=项目状态"),
}

INDICATOR_HEADERS = {
    "std": "seq=序号|indicator=指标名称|measure_unit=计量单位|current=本期累计|last_year=上年同期",
    "自然资源厅": "seq=序号|indicator=指标|measure_unit=单位|current=本年累计|last_year=去年同期",
    "宁东基地": "seq=序号|indicator=指标名称|measure_unit=计量单位|current=本年数|last_year=上年同期",
    "吴忠市": "seq=序号|indicator=指标名称|measure_unit=计量单位|current=本期|last_year=上年同期",
}
# Where each unit's 主要指标 and 典型做法 go:
# (path or "@projects" for its 重大项目 workbook, format, encoding, unit_from).
INDICATOR_FILES = {
    "发展改革委": ("发展改革委/主要指标情况表.xls", "xls", None, "folder"),
    "自然资源厅": ("自然资源厅/自然资源厅报表（{m}月）.xlsx", "xlsx", None, "folder"),
    "宁东基地": ("宁东基地/宁东基地主要指标及典型做法.xlsx", "xlsx", None, "folder"),
    "银川市": ("银川市/主要指标情况表.xlsx", "xlsx", None, "folder"),
    "石嘴山市": ("@projects", "xls", None, "file_name"),
    "吴忠市": ("吴忠市/附件4.csv", "csv", "gb18030", "folder"),
    "水利厅": ("水利厅主要指标情况表.xlsx", "xlsx", None, "file_name"),
    "交通运输厅": ("@projects", "xlsx", None, "folder"),
}
PRACTICE_FILES = {
    "发展改革委": ("发展改革委/工作举措与典型做法.xlsx", "xlsx", None, "folder"),
    "银川市": ("银川市/工作举措与典型做法.xlsx", "xlsx", None, "folder"),
    "石嘴山市": ("@projects", "xls", None, "file_name"),
    "吴忠市": ("吴忠市/吴忠市典型做法.xlsx", "xlsx", None, "folder"),
    "固原市": ("固原市典型做法.xlsx", "xlsx", None, "file_name"),
    "中卫市": ("中卫市/典型做法.xlsx", "xlsx", None, "folder"),
    "宁东基地": ("宁东基地/宁东基地主要指标及典型做法.xlsx", "xlsx", None, "folder"),
    "交通运输厅": ("@projects", "xlsx", None, "folder"),
    "水利厅": ("水利厅主要指标情况表.xlsx", "xlsx", None, "file_name"),
    "住房城乡建设厅": ("@projects", "xlsx", None, "folder"),
    "自然资源厅": ("自然资源厅/自然资源厅报表（{m}月）.xlsx", "xlsx", None, "folder"),
    "商务厅": ("商务厅工作举措与典型做法.csv", "csv", "gb18030", "file_name"),
    "农业农村厅": ("农业农村厅/典型做法.xlsx", "xlsx", None, "folder"),
}
PRACTICE_HEADERS = ("seq=序号|section=板块|content=内容", "seq=序号|section=所属板块|content=工作举措与典型做法",
                    "seq=序号|section=类别|content=典型做法")


# --------------------------------------------------------------------------- one round


class _Round:
    """Renders the world into one round's books and planted mistakes."""

    def __init__(self, world: World, spec: RoundSpec):
        self.world, self.spec = world, spec
        self.m = spec.as_of.month
        self.books: dict[str, Book] = {}
        self.home: dict[str, str] = {}  # unit -> path of its first 重大项目 workbook
        self.mistakes: list[dict] = []

    # -- helpers

    def rng(self, *parts: object) -> np.random.Generator:
        return _rng(self.world.seed, self.spec.id, *parts)

    def book(self, path: str, fmt: str, unit: str, unit_from: str, title: str, encoding: str | None = None) -> Book:
        if path not in self.books:
            self.books[path] = Book(path, fmt, unit, unit_from, title, encoding)
        return self.books[path]

    def footer(self, unit: str, org: str | None = None) -> list[str]:
        h = zlib.crc32(unit.encode("utf-8"))
        person = REPORTERS[h % len(REPORTERS)]
        phone = f"0951-{60 + h % 30}****{h % 89 + 10}"
        lines = [f"填报单位：{org or ORGS[unit]}    填报人：{person}    联系电话：{phone}"]
        if h % 2:
            filled = self.spec.as_of + dt.timedelta(days=3 + h % 3)
            lines.append(f"填报日期：{filled.year}年{filled.month}月{filled.day}日")
        return lines

    def mistake(self, book: Book, grid: Grid, row: int, column: str, kind: str, description: str) -> None:
        sheet = Path(book.path).stem if book.format == "csv" else grid.name
        self.mistakes.append(dict(file=book.path, sheet=sheet, row=row, column=column, kind=kind,
                                  description=description))

    def record_planted(self, book: Book, grid: Grid, placed: list[tuple[dict, int]]) -> None:
        rows = {id(rec): row for rec, row in placed}
        for rec, row in placed:
            if "_mk" not in rec:
                continue
            name, kind, text = rec["_mk"]
            column = next(c.written for c in grid.cols if c.field == name) if name else ""
            if "_dup_of" in rec:
                text = text.format(first=rows[id(rec["_dup_of"])], second=row)
            self.mistake(book, grid, row, column, kind, text)

    def place(self, layout: Layout, unit: str, plans: list[tuple[str, list[list[dict]], dict]], kind: str,
              cols: list[Col]) -> list[Book]:
        """Cut a unit's return into workbooks of SHEETS_PER_BOOK sheets (csv: one sheet per file) and lay them out."""
        per_book = 1 if layout.format == "csv" else SHEETS_PER_BOOK
        base = layout.path.format(m=self.m)
        books = []
        for b in range(0, len(plans), per_book):
            path = base if b == 0 else _numbered(base, b // per_book + 1)
            title = layout.title.format(u=unit, m=self.m, batch="")
            book = self.book(path, layout.format, unit, layout.unit_from, title, layout.encoding)
            if layout.notes and b == 0:
                book.sheets.append(_notes_sheet(layout.style.money))
            for name, groups, extra in plans[b:b + per_book]:
                self.place_sheet(book, layout, unit, name, groups, extra, kind, cols)
            books.append(book)
        return books

    def place_sheet(self, book: Book, layout: Layout, unit: str, name: str, groups: list[list[dict]], extra: dict,
                    kind: str, cols: list[Col]) -> None:
        """Lay out one sheet of a unit's return in its workbook, and record the mistakes planted in it."""
        batch = groups[0][0]["batch"] if layout.by_batch and groups and groups[0] else ""
        grid, placed, facts = _table(
            name, kind, title=layout.title.format(u=unit, m=self.m, batch=batch), cols=extra.get("cols", cols),
            groups=groups, style=layout.style, rng=self.rng(book.path, name),
            footer=self.footer(unit, extra.get("org")),
            unit_line=layout.unit_line, unit_at_right=layout.unit_at_right, totals=layout.totals,
            subtotals=layout.subtotals, total_delta=extra.get("total_delta"),
            gap_after_title=layout.gap_after_title, gap_between=layout.gap_between,
            outline=extra.get("outline"), notes_below=(layout.unit_note,) if layout.unit_note else ())
        book.sheets.append(grid)
        self.record_planted(book, grid, placed)
        if extra.get("total_delta") and facts:
            for col_name in extra["total_delta"]:
                written, true = facts["columns"][col_name]
                label = next(c.written for c in grid.cols if c.field == col_name)
                self.mistake(book, grid, facts["row"], label, "total_mismatch",
                             f"合计行“{label}”填写为{written:,}{layout.style.money}，而各项目之和为{true:,}"
                             f"{layout.style.money}，两者不符；合计行不计入汇总（汇总按各项目计算），"
                             "请核对合计或明细。")
        if "heading" in facts:
            self.heading_mistake(book, grid, facts["heading"], layout.style.money)
        for col in grid.cols:
            if col.field.startswith("_"):
                self.mistake(book, grid, grid.rows_of("header")[0], col.written, "unknown_header",
                             f"表头“{col.written}”不是本表的栏目，表头别名表中没有这一写法，该列未读入"
                             "（其余各列照常读取，这只是提示）。")

    def heading_mistake(self, book: Book, grid: Grid, facts: dict, money: str) -> None:
        """A group heading whose stated amount is not the sum of the rows under it."""
        for col_name, (written, true) in facts["columns"].items():
            if written == true:
                continue
            col = next(c for c in grid.cols if c.field == col_name)
            header = "/".join((*col.parents, col.written))
            self.mistake(book, grid, facts["row"], col.written, "group_total_mismatch",
                         f"分组行“{facts['label']}”的“{header}”填写为{written:,}{money}，而其下各项目之和为{true:,}"
                         f"{money}，两者不符；分组行不计入项目个数和合计，请核对后改正。")

    def render(self) -> tuple[list[Book], list[dict]]:
        for unit in PROJECT_UNITS:
            _write_projects(self, unit)
        _write_major_works(self)
        for unit in ATTRACTION_UNITS:
            _write_attraction(self, unit)
        _write_indicators(self)
        _write_fai(self)
        _write_practices(self)
        if self.spec.current:
            self.mistakes.append(dict(file="", sheet="", row=0, column="", kind="missing_return",
                                      description=f"{MISSING_UNIT}本轮未报送任何报表（应报送单位见 round.yml）。"))
        return list(self.books.values()), self.mistakes


# -- the returns of one round: 重大项目进展情况表


def _project_records(rnd: _Round, unit: str) -> list[dict]:
    P, cur = rnd.world.projects, rnd.spec.current
    idx = [i for i, u in enumerate(P["unit"]) if u == unit]
    if unit == "银川市":
        idx.append(rnd.world.cross_duplicate)
    recs = []
    for i in idx:
        started = P["started"][i] if cur else P["started_prev"][i]
        recs.append(dict(
            _i=i, project_code=P["code"][i], project_name=P["name"][i], batch=P["batch"][i], is_key=P["key"][i],
            location=P["location"][i], industry=P["industry"][i], nature=P["nature"][i],
            total_investment=P["total"][i], annual_plan=P["plan"][i],
            completed=P["done"][i] if cur else P["done_prev"][i], started=started,
            stated_completion_pct=round(100 * (P["done"][i] if cur else P["done_prev"][i]) / P["plan"][i], 1),
            start_date=P["start"][i] if started else None,
            in_stats=(P["in_stats"][i] if cur else P["in_stats_prev"][i]) if started else None,
            responsible_unit=P["owner"][i], leader=P["leader"][i],
            progress=P["progress"][i] if cur else P["progress_prev"][i], problems=P["problems"][i],
            _new=not P["continuing"][i], _cross=i == rnd.world.cross_duplicate,
        ))
    # Key projects first within a batch; the shared project last in 银川's first batch.
    recs.sort(key=lambda r: (r["batch"], r["_cross"], not r["is_key"], r["project_code"]))
    return recs


def _write_projects(rnd: _Round, unit: str) -> None:
    layout = PROJECT_LAYOUTS[unit]
    cols = _cols(PROJECT_HEADERS[unit].format(m=rnd.m))
    recs = _project_records(rnd, unit)
    if layout.by_batch:
        parts = [(b, [r for r in recs if r["batch"] == b]) for b in ("第一批", "第二批")]
    else:
        parts = [(layout.sheet, recs)]
    plans: list[tuple[str, list[list[dict]], dict]] = []
    for base, part in parts:
        for k in range(0, max(1, len(part)), ROWS_PER_SHEET):
            chunk = part[k:k + ROWS_PER_SHEET]
            name = base if k == 0 else f"{base}（{k // ROWS_PER_SHEET + 1}）"
            if layout.outline:
                groups, outline = _outline(chunk, unit)
                plans.append((name, groups, {"outline": outline}))
                continue
            groups = ([[r for r in chunk if r["batch"] == b] for b in ("第一批", "第二批")]
                      if layout.subtotals else [chunk])
            plans.append((name, [g for g in groups if g], {}))
    if rnd.spec.current:
        PLANTERS.get(unit, lambda *a: None)(rnd, plans, cols, layout)
    books = rnd.place(layout, unit, plans, "projects", cols)
    rnd.home[unit] = books[0].path


# -- the other returns


def _write_major_works(rnd: _Round) -> None:
    cur = 0 if rnd.spec.current else 1
    recs = [dict(project_name=w["name"], lead_unit=w["lead"], leader=w["leader"], stage=w["stage"][cur],
                 total_investment=w["total"], annual_plan=w["plan"], completed=w["done"][cur],
                 milestone=w["milestone"], milestone_date=w["date"], milestone_status=w["status"][cur],
                 progress=w["progress"], problems=w["problems"]) for w in rnd.world.major_works]
    layout = Layout("发展改革委/十大工程项目推进情况表（{m}月）.xlsx", "xlsx", "folder",
                    Style(money="亿元", dates="mixed", empty=("—",), date_format='yyyy"年"m"月"d"日"'),
                    "2021年“十大工程项目”推进情况表（截至{m}月底）" + SAMPLE_NOTE, unit_line="单位：亿元",
                    unit_at_right=True, sheet="十大工程", totals=True)
    cols = _cols("seq=序号|project_name=工程名称|lead_unit=牵头单位|leader=省级包抓领导|stage=所处阶段"
                 "|total_investment=总投资|annual_plan=2021年投资>计划|completed=2021年投资>完成"
                 "|milestone=计划节点>内容|milestone_date=计划节点>时间|milestone_status=完成情况"
                 "|progress=进展情况|problems=存在问题")
    rnd.place(layout, "发展改革委", [(layout.sheet, [recs], {})], "major_works", cols)


def _write_attraction(rnd: _Round, unit: str) -> None:
    A, cur = rnd.world.attraction, rnd.spec.current
    recs = [dict(project_name=A["name"][i], sign_date=A["sign"][i], sign_mode=A["mode"][i],
                 industry=A["industry"][i], is_chain=A["chain"][i], contract_investment=A["contract"][i],
                 funds_in_place=(A["funds"][i] if cur else A["funds_prev"][i]) or None,
                 status=A["status"][i] if cur else A["status_prev"][i])
            for i, u in enumerate(A["unit"]) if u == unit and (cur or A["sign"][i] <= rnd.spec.as_of)]
    layout, header = ATTRACTION_LAYOUTS[unit]
    plans = [(layout.sheet if k == 0 else f"{layout.sheet}（{k // ROWS_PER_SHEET + 1}）",
              [recs[k:k + ROWS_PER_SHEET]], {"org": ATTRACTION_ORGS[unit]})
             for k in range(0, max(1, len(recs)), ROWS_PER_SHEET)]
    rnd.place(layout, unit, plans, "attraction", _cols(header))


def _write_side_table(rnd: _Round, unit: str, where: tuple[str, str, str | None, str], kind: str, sheet: str,
                      title: str, cols: list[Col], recs: list[dict], style: Style) -> None:
    """主要指标 / 典型做法: its own file, or one more sheet in the unit's 重大项目 workbook."""
    path, fmt, encoding, unit_from = where
    path = rnd.home[unit] if path == "@projects" else path.format(m=rnd.m)
    book = rnd.book(path, fmt, unit, unit_from, title, encoding)
    grid, _, _ = _table(sheet if fmt != "csv" else Path(path).stem, kind, title=title, cols=cols, groups=[recs],
                        style=style, rng=rnd.rng(path, sheet), footer=rnd.footer(unit))
    book.sheets.append(grid)


def _write_indicators(rnd: _Round) -> None:
    rows = rnd.world.indicators[rnd.spec.id]
    for unit, where in INDICATOR_FILES.items():
        recs = [dict(indicator=name, measure_unit=measure, current=value, last_year=last)
                for u, name, measure, value, last, _ in rows if u == unit]
        header = INDICATOR_HEADERS.get(unit, INDICATOR_HEADERS["std"])
        style = Style(numbers="thousands" if where[1] == "csv" else "some_text", empty=("—", "/"))
        _write_side_table(rnd, unit, where, "indicators", "主要指标",
                          f"{unit}主要指标情况表（截至{rnd.m}月底）{SAMPLE_NOTE}", _cols(header), recs, style)


def _write_practices(rnd: _Round) -> None:
    for n, (unit, where) in enumerate(PRACTICE_FILES.items()):
        if unit == MISSING_UNIT and rnd.spec.current:
            continue
        recs = [dict(section=s, content=c) for u, s, c in PRACTICES if u == unit]
        _write_side_table(rnd, unit, where, "practices", "典型做法",
                          f"{unit}重大项目建设工作举措与典型做法{SAMPLE_NOTE}",
                          _cols(PRACTICE_HEADERS[n % len(PRACTICE_HEADERS)]), recs, Style())


def _write_fai(rnd: _Round) -> None:
    m = rnd.m
    month = lambda k: f"{k}月" if k == 1 else f"1-{k}月"  # noqa: E731
    main = [dict(region=region, month=month(k), cum_value=amount[k - 1], yoy_pct=yoy[k - 1], last_yoy_pct=last[k - 1])
            for region, (amount, yoy, last) in rnd.world.fai.items() if region != "宁东基地"
            for k in range(1, m + 1)]
    layout = Layout("发展改革委/全区固定资产投资情况（1-{m}月）.xlsx", "xlsx", "folder", Style(money="亿元"),
                    "2021年1-{m}月全区固定资产投资情况" + SAMPLE_NOTE, sheet="固定资产投资")
    cols = _cols("region=地区|month=月份|cum_value=累计完成额（亿元）|yoy_pct=累计增速(%)|last_yoy_pct=上年同期增速(%)")
    rnd.place(layout, "发展改革委", [(layout.sheet, [main], {"org": "自治区发展改革委（数据来源：自治区统计局）"})],
               "fai", cols)
    amount, yoy, last = rnd.world.fai["宁东基地"]
    rates = [dict(region="宁东基地", month=k, yoy_pct=yoy[k - 1], last_yoy_pct=last[k - 1]) for k in range(1, m + 1)]
    layout = Layout("发展改革委/附件5.xls", "xls", "folder", Style(), "2021年1-{m}月固定资产投资增速情况" + SAMPLE_NOTE,
                    sheet="增速")
    cols = _cols("region=地区|month=统计月份|yoy_pct=本年累计增速（%）|last_yoy_pct=上年同期累计增速（%）")
    rnd.place(layout, "发展改革委", [(layout.sheet, [rates], {"org": "自治区发展改革委（数据来源：自治区统计局）"})],
              "fai", cols)


# Industries a unit groups under 二、基础设施项目; every other one is an 产业项目.
INFRASTRUCTURE = frozenset({"交通基础设施", "水利", "城市建设", "社会民生", "生态环保"})
_NUMERALS = "一二三四五六七八九十"


def _outline(recs: list[dict], unit: str) -> tuple[list[list[dict]], Outline]:
    """A sheet laid out as 一、产业项目（N个）/ 二、基础设施项目（N个）, county by county within each,
    each county closed by its 某某区小计 row."""
    groups, headings, labels = [], {}, []
    categories = (("产业项目", lambda r: r["industry"] not in INFRASTRUCTURE),
                  ("基础设施项目", lambda r: r["industry"] in INFRASTRUCTURE))
    for name, member in categories:
        part = [r for r in recs if member(r)]
        if not part:
            continue
        counties = list(dict.fromkeys(_county(r["location"], unit) for r in part))
        headings[len(groups)] = (f"{_NUMERALS[len(headings)]}、{name}（{len(part)}个）", len(counties))
        for county in counties:
            groups.append([r for r in part if _county(r["location"], unit) == county])
            labels.append(f"{county}小计")
    return groups, Outline(headings, labels)


def _county(location: str, unit: str) -> str:
    return location[len(unit):] if location.startswith(unit) and len(location) > len(unit) else location


def _numbered(path: str, k: int) -> str:
    p = Path(path)
    return (p.parent / f"{p.stem}（{k}）{p.suffix}").as_posix()


# --------------------------------------------------------------------------- planted mistakes (current round)


def _pick(recs: list[dict], wanted: Callable[[dict], bool]) -> dict:
    """The first record fit for a mistake: not already holding one, not the shared project; fit if possible."""
    free = [r for r in recs if "_mk" not in r and not r.get("_cross")]
    return next((r for r in free if wanted(r)), free[-1])


def _invested(r: dict) -> bool:
    return bool(r["started"]) and r["completed"] > 0 and r["start_date"] is not None


def _plant_yinchuan(rnd: _Round, plans, cols, layout) -> None:
    recs = next(g for name, groups, _ in plans if name == "第二批" for g in groups)
    rec = _pick(recs, lambda r: r["total_investment"] >= 1000)
    text = f"约{int(round(rec['total_investment'], -2))}"
    rec["_ov"] = {"total_investment": text}
    rec["_mk"] = ("total_investment", "text_amount",
                  f"“{rec['project_name']}”的总投资填写为“{text}”，带有文字，无法识别为金额：该项目仍计入项目个数和开工情况，"
                  "这一金额未计入总投资合计；请只填写阿拉伯数字（单位：万元）。")


def _plant_shizuishan(rnd: _Round, plans, cols, layout) -> None:
    name, groups, extra = plans[0]
    shown = sum(int(round(r["total_investment"])) for g in groups for r in g)
    extra["total_delta"] = {"total_investment": max(1000, int(round(shown * 0.04, -2)))}
    # The last group heading (二、基础设施项目) states an annual plan its rows do not add up to.
    outline = extra["outline"]
    last = max(outline.headings)
    start, covers = last, outline.headings[last][1]
    planned = sum(int(round(r["annual_plan"])) for g in groups[start:start + covers] for r in g)
    outline.delta[last] = {"annual_plan": -max(500, int(round(planned * 0.1, -2)))}


def _plant_wuzhong(rnd: _Round, plans, cols, layout) -> None:
    recs = plans[0][1][0]
    rec = _pick(recs, lambda r: not r["started"])
    rec["_ov"] = {"started": "待定"}
    rec["_mk"] = ("started", "invalid_bool",
                  f"“{rec['project_name']}”的是否已开工填写为“待定”，无法判断是否开工：该项目仍计入项目个数"
                  "和开工率分母，但不计为已开工；请填写“是”或“否”。")
    rec = _pick(recs, _invested)
    value = -max(_money_shown(rec["completed"], layout.style.money), _money_shown(rec["annual_plan"], "万元") // 3, 1)
    rec["_ov"] = {"completed": _number_cell(value, layout.style, 0.5)}
    rec["_mk"] = ("completed", "negative_amount",
                  f"“{rec['project_name']}”的1-{rnd.m}月完成投资填写为负数（{_num_text(value, True)}万元）："
                  "该项目仍计入项目个数，这一金额未计入完成投资合计；应填写不小于0的金额。")


def _plant_zhongwei(rnd: _Round, plans, cols, layout) -> None:
    recs = plans[0][1][0]
    late = rnd.spec.as_of + dt.timedelta(days=20)
    rec = _pick(recs, lambda r: _invested(r) and r["_new"])
    text = _date_text(late, "cn")
    rec["_ov"] = {"start_date": text}
    rec["_mk"] = ("start_date", "start_after_cutoff",
                  f"“{rec['project_name']}”的开工时间填写为“{text}”，晚于本轮数据截至日期"
                  f"{_date_text(rnd.spec.as_of, 'cn')}：该项目仍计入项目个数和已开工项目，这一日期未采用；"
                  "请核对开工时间。")
    rec = _pick(recs, _invested)
    rec["_ov"] = {"start_date": "2021.13.45"}
    rec["_mk"] = ("start_date", "invalid_date",
                  f"“{rec['project_name']}”的开工时间填写为“2021.13.45”，不是有效日期（没有13月45日）："
                  "该项目仍计入项目个数和已开工项目，开工时间暂缺；请填写实际开工日期。")


def _plant_ningdong(rnd: _Round, plans, cols, layout) -> None:
    name, groups, extra = plans[0]
    recs = groups[0]
    # One column no alias knows, after 包抓领导: each row a (masked, fictional) mobile number.
    at = next(j for j, c in enumerate(cols) if c.field == "leader") + 1
    extra["cols"] = cols[:at] + [Col("_contact", "联系人电话")] + cols[at:]
    phones = rnd.rng("phones").integers(0, 10_000, len(recs))
    for r, tail in zip(recs, phones):
        r["_contact"] = f"139****{int(tail):04d}"
    # The same row pasted twice.
    rec = _pick(recs, _invested)
    copy = {k: v for k, v in rec.items() if k not in ("_ov", "_mk")}
    copy["_dup_of"] = rec
    copy["_mk"] = ("project_code", "duplicate_code",
                   f"项目编号{rec['project_code']}（{rec['project_name']}）在本表中填报了两次（第{{first}}行和第{{second}}行）："
                   f"该项目只统计一次，第{{second}}行已隔离、未计入；请删除重复行。")
    recs.insert(min(recs.index(rec) + 3, len(recs)), copy)


def _plant_transport(rnd: _Round, plans, cols, layout) -> None:
    recs = plans[0][1][0]
    rec = _pick(recs, _invested)
    rec["_ov"] = {"project_name": None}
    rec["_mk"] = ("project_name", "missing_name",
                  f"项目编号{rec['project_code']}这一行填写了投资等数据，但项目名称为空，无法作为一个项目统计："
                  "这一行已隔离，未计入项目个数和金额；请补填项目名称。")


def _plant_water(rnd: _Round, plans, cols, layout) -> None:
    recs = plans[0][1][0]
    rec = _pick(recs, _invested)
    total = _money_shown(rec["total_investment"], layout.style.money)
    wrong = int(round(total * 1.25))
    rec["_ov"] = {"completed": wrong}
    rec["_mk"] = ("completed", "completed_exceeds_total",
                  f"“{rec['project_name']}”的累计完成投资{wrong:,}万元大于总投资{total:,}万元（本年完成不可能超过项目总投资）："
                  "该项目和这一金额暂按所填计入，请核对两项金额（注意金额单位）后改正。")


PLANTERS = {"银川市": _plant_yinchuan, "石嘴山市": _plant_shizuishan, "吴忠市": _plant_wuzhong,
            "中卫市": _plant_zhongwei, "宁东基地": _plant_ningdong, "交通运输厅": _plant_transport,
            "水利厅": _plant_water}


# --------------------------------------------------------------------------- writers


def _write_xlsx(path: Path, book: Book, created: dt.datetime) -> None:
    wb = xlsxwriter.Workbook(str(path), {"in_memory": True, "strings_to_numbers": False, "strings_to_formulas": False,
                                         "strings_to_urls": False})
    wb.set_properties({"title": book.title, "author": "样例数据", "comments": "虚构的样例数据，不代表真实情况",
                       "created": created})
    border = {"border": 1, "valign": "vcenter"}
    fmt = {
        "title": wb.add_format({"bold": True, "font_size": 14, "align": "center", "valign": "vcenter"}),
        "unit": wb.add_format({}),
        "unit_right": wb.add_format({"align": "right"}),
        "header": wb.add_format({**border, "bold": True, "align": "center", "text_wrap": True, "bg_color": "#D9E1F2"}),
        "data": wb.add_format(border),
        "total": wb.add_format({**border, "bold": True}),
        "group": wb.add_format({**border, "bold": True}),
        "footer": wb.add_format({}),
        "note": wb.add_format({}),
        "blank": None,
    }
    date_fmts: dict[str, Any] = {}
    for grid in book.sheets:
        ws = wb.add_worksheet(grid.name)
        date_fmt = date_fmts.setdefault(grid.date_format, wb.add_format({**border, "num_format": grid.date_format}))
        merged = {(r1, c1): (r2, c2) for r1, c1, r2, c2 in grid.merges}
        for r, (cells, role) in enumerate(zip(grid.rows, grid.roles)):
            style = fmt[role]
            if role == "unit" and cells and cells[0] is None:
                style = fmt["unit_right"]
            if role == "header" and any(isinstance(v, str) and "\n" in v for v in cells):
                ws.set_row(r, 32)
            for c, value in enumerate(cells):
                if (r, c) in merged:
                    r2, c2 = merged[(r, c)]
                    ws.merge_range(r, c, r2, c2, "" if value is None else value, style)
                elif value is None:
                    continue
                elif isinstance(value, str):
                    ws.write_string(r, c, value, style)
                elif isinstance(value, dt.date):
                    ws.write_datetime(r, c, value, date_fmt)
                else:
                    ws.write_number(r, c, value, style)
        for c, width in enumerate(_widths(grid)):
            ws.set_column(c, c, width)
    wb.close()


_XLS_BORDERS = "borders: left thin, right thin, top thin, bottom thin"


def _write_xls(path: Path, book: Book) -> None:
    wb = xlwt.Workbook(encoding="utf-8")
    styles = {
        "title": xlwt.easyxf("font: bold on, height 280; align: horiz center, vert center"),
        "unit": xlwt.easyxf(""),
        "unit_right": xlwt.easyxf("align: horiz right"),
        "header": xlwt.easyxf(f"font: bold on; align: horiz center, vert center, wrap on; {_XLS_BORDERS}; "
                              "pattern: pattern solid, fore_colour pale_blue"),
        "data": xlwt.easyxf(_XLS_BORDERS),
        "total": xlwt.easyxf(f"font: bold on; {_XLS_BORDERS}"),
        "group": xlwt.easyxf(f"font: bold on; {_XLS_BORDERS}"),
        "footer": xlwt.easyxf(""),
        "note": xlwt.easyxf(""),
        "blank": xlwt.easyxf(""),
    }
    date_styles: dict[str, Any] = {}
    for grid in book.sheets:
        ws = wb.add_sheet(grid.name)
        date_style = date_styles.setdefault(grid.date_format,
                                            xlwt.easyxf(_XLS_BORDERS, num_format_str=grid.date_format))
        merged = {(r1, c1): (r2, c2) for r1, c1, r2, c2 in grid.merges}
        for r, (cells, role) in enumerate(zip(grid.rows, grid.roles)):
            style = styles["unit_right"] if role == "unit" and cells and cells[0] is None else styles[role]
            for c, value in enumerate(cells):
                if (r, c) in merged:
                    r2, c2 = merged[(r, c)]
                    ws.write_merge(r, r2, c, c2, "" if value is None else value, style)
                elif value is None:
                    continue
                elif isinstance(value, dt.date):
                    ws.write(r, c, value, date_style)
                else:
                    ws.write(r, c, value, style)
        for c, width in enumerate(_widths(grid)):
            ws.col(c).width = int(256 * width)
    wb.save(str(path))


def _csv_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return f"{value.year}/{value.month}/{value.day}"  # as Excel shows a date cell when it saves csv
    if isinstance(value, (int, float)):
        return _num_text(value)
    return str(value)


def _write_csv(path: Path, book: Book) -> None:
    grid = book.sheets[0]
    width = max(len(r) for r in grid.rows)
    with open(path, "w", encoding=book.encoding or "gb18030", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        for cells in grid.rows:
            writer.writerow([_csv_text(v) for v in cells] + [""] * (width - len(cells)))


def _widths(grid: Grid) -> list[float]:
    """Column widths from the header and the first data rows (a CJK character counts double)."""
    width = max((len(r) for r in grid.rows), default=1)
    if grid.kind is None:
        return [80.0] + [8.0] * (width - 1)
    sample = [cells for cells, role in zip(grid.rows, grid.roles) if role in ("header", "data")][:60]
    out = []
    for c in range(width):
        longest = 4
        for cells in sample:
            v = cells[c] if c < len(cells) else None
            if v is None:
                continue
            text = _csv_text(v)
            longest = max(longest, max(sum(2 if ord(ch) > 0x2E80 else 1 for ch in part) for part in text.split("\n")))
        out.append(float(min(40, longest + 2)))
    return out


# --------------------------------------------------------------------------- the rounds on disk


def plan_rounds(n_projects: int = 600, seed: int = 2021) -> dict[str, tuple[list[Book], list[dict]]]:
    """Both rounds, laid out but not written: round id -> (books, planted mistakes)."""
    if not isinstance(n_projects, int) or n_projects < MIN_PROJECTS:
        raise SampleError(f"样例项目数应为不少于{MIN_PROJECTS}的整数（收到 {n_projects!r}），"
                          "否则无法给每个单位分配项目并设置错误样例。")
    world = make_world(n_projects, seed)
    return {spec.id: _Round(world, spec).render() for spec in ROUNDS}


def write_sample_rounds(raw_root: Path, n_projects: int = 600, seed: int = 2021) -> list[Path]:
    """Write the sample rounds 2021-12 (current) and 2021-09 (previous) under raw_root; return their folders.

    An existing round folder is replaced only if it is itself a sample round
    (round.yml with sample: true); a folder with real returns is never touched.
    """
    raw_root = Path(raw_root)
    planned = plan_rounds(n_projects, seed)
    for spec in ROUNDS:
        _check_replaceable(raw_root / spec.id)
    folders = []
    for spec in ROUNDS:
        books, mistakes = planned[spec.id]
        folder = raw_root / spec.id
        _clear(folder)
        folder.mkdir(parents=True, exist_ok=True)
        created = dt.datetime.combine(spec.as_of + dt.timedelta(days=5), dt.time(9, 0))
        for book in books:
            path = folder / book.path
            path.parent.mkdir(parents=True, exist_ok=True)
            if book.format == "xlsx":
                _write_xlsx(path, book, created)
            elif book.format == "xls":
                _write_xls(path, book)
            else:
                _write_csv(path, book)
        (folder / "round.yml").write_text(_round_yml(spec), encoding="utf-8")
        (folder / "README.txt").write_text(_readme(spec, books, mistakes, n_projects, seed), encoding="utf-8")
        (folder / MISTAKES_FILE).write_text(json.dumps(mistakes, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        folders.append(folder)
    return folders


def _check_replaceable(folder: Path) -> None:
    if not folder.exists() or not any(folder.iterdir()):
        return
    try:
        data = yaml.safe_load((folder / "round.yml").read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        data = None
    if not (isinstance(data, dict) and data.get("sample") is True):
        raise SampleError(f"文件夹 {folder} 已有内容，且不是样例数据（round.yml 中没有 sample: true）。"
                          "为避免覆盖真实报表，未写入任何文件；请用 --out 指定其他文件夹。")


def _clear(folder: Path) -> None:
    if not folder.exists():
        return
    for entry in sorted(folder.iterdir()):
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def _round_yml(spec: RoundSpec) -> str:
    lines = [
        "# 样例数据：本轮全部报表均为 pipeline/devtools/sample.py 生成的虚构数据，不代表任何真实情况。",
        f"title: {spec.title}",
        f"as_of: {spec.as_of.isoformat()}  # 数据截至日期",
    ]
    if spec.previous:
        lines.append(f'previous: "{spec.previous}"  # 上一轮，用于环比')
    lines += ["units:  # 应报送单位"] + [f"  - {u}" for u in UNITS]
    lines += [f"inspection_start: {spec.inspection[0].isoformat()}  # 督查开始日期",
              f"inspection_end: {spec.inspection[1].isoformat()}  # 督查结束日期",
              f"groups: {spec.groups}  # 督查组数",
              "start_rate_base: new  # 续建项目不计入开工率分母",
              "behind_margin_pp: 20  # 低于时间进度多少个百分点列入逐一跟踪清单",
              "sample: true"]
    return "\n".join(lines) + "\n"


def _readme(spec: RoundSpec, books: list[Book], mistakes: list[dict], n_projects: int, seed: int) -> str:
    formats = _format_counts(books)
    lines = [
        f"{spec.title}",
        "",
        "本文件夹中的全部报表均为程序生成的虚构样例数据（样例数据）。",
        "所有单位报送的数字、项目名称、项目编号、日期、人员姓名和联系电话均为虚构，",
        "不代表任何地区、单位或项目的真实情况，仅用于演示和测试督查报表处理流程。",
        "",
        f"数据截至：{spec.as_of.year}年{spec.as_of.month}月{spec.as_of.day}日",
        f"报表文件：{len(books)} 个（{formats}）",
        f"生成方式：python -m pipeline sample --projects {n_projects}（随机种子 {seed}），相同参数生成相同内容。",
        "",
        "各单位报表的版式模仿实际收到的报表，例如：",
        *(f"  · {unit}：{text.format(m=spec.as_of.month)}" for unit, text in LAYOUT_NOTES),
        "",
    ]
    if mistakes:
        lines += [
            f"本轮故意设置了 {len(mistakes)} 处填报问题（含一个应报送而未报送的单位），",
            f"逐条列在 {MISTAKES_FILE} 中（文件、工作表、Excel 行号、列、问题类型、说明），",
            "用于检验清洗、隔离和退回修改清单是否能发现它们。按清洗规则，只有项目名称为空的行和重复填报的行被隔离；",
            "其余有问题的项目仍计入项目个数，无法识别或明显有误的数值不计入合计，并列入退回修改清单。",
        ]
    else:
        lines += ["本轮为上一轮（用于环比），未故意设置填报错误。"]
    return "\n".join(lines) + "\n"


# What the README.txt of a round says about the units' layouts (kept beside PROJECT_LAYOUTS).
LAYOUT_NOTES = (
    ("银川市", "每个批次一张工作表（“第一批”“第二批”），批次只写在工作表名和标题中，没有“批次”列；两行合并表头"),
    ("石嘴山市", "旧版 .xls；分组行“一、产业项目（N个）”“二、基础设施项目（N个）”带分组合计，"
               "各县区后有“某某区小计”行（写在项目名称列），表尾有合计行；单位行在表头上方最右侧"),
    ("吴忠市", "GB18030 编码的 csv；“1-{m}月完成投资（万元）”等表头；未开工项目的完成投资填“—”"),
    ("固原市", "文件名只是“附件2.xls”，报送单位只写在表尾的“填报单位”中；金额为亿元（写在表头中）；"
             "未开工项目的完成投资留空"),
    ("中卫市", "金额为亿元，只在表格下方注明“注：本表金额单位为亿元。”；部分数字为全角"),
    ("宁东基地", "是否类栏目用“√/×”，开工时间为“2021年3月18日”格式的 Excel 日期"),
    ("交通运输厅", "“本年投资”下分“计划”“累计完成”；单位行在表头上方最右侧；与银川市重复填报一个项目"),
    ("水利厅", "UTF-8 csv；表头写作“所在地区”“是否纳统”“开工情况”（已开工/未开工）“项目建设单位”"),
    ("住房城乡建设厅", "三行表头：“投资情况（万元）”下分“项目总投资”和“2021年投资”，后者再分“年度计划”"
                    "“1-{m}月完成”，另有“完成率(%)”列"),
)


def _format_counts(books: list[Book]) -> str:
    counts: dict[str, int] = {}
    for book in books:
        label = (book.format if book.format != "csv"
                 else f"csv（{'GB18030' if book.encoding == 'gb18030' else 'UTF-8'}）")
        counts[label] = counts.get(label, 0) + 1
    return "，".join(f"{k} {v} 个" for k, v in sorted(counts.items()))


# --------------------------------------------------------------------------- command line


def main(argv: list[str] | None = None) -> int:
    parser = ChineseParser(
        prog="python -m pipeline sample",
        description="生成两轮虚构的样例报表：2021-12（本轮，数据截至2021年11月30日，含故意设置的填报错误）"
                    "和 2021-09（上一轮，用于环比）。所有数字均为虚构。",
    )
    parser.add_argument("--out", metavar="文件夹", type=Path, default=config.RAW_DATA_DIR,
                        help="样例轮次写到哪个文件夹下（默认为项目的 data/raw/），"
                             "其中生成 2021-12 和 2021-09 两个子文件夹")
    parser.add_argument("--projects", metavar="N", type=int, default=600,
                        help=f"每轮重大项目个数（默认600，至少{MIN_PROJECTS}）；项目越多，报表文件越多")
    parser.add_argument("--seed", metavar="种子", type=int, default=2021,
                        help="随机种子（默认2021）；相同种子生成相同的文件")
    args = parser.parse_args(argv)
    try:
        folders = write_sample_rounds(args.out, n_projects=args.projects, seed=args.seed)
    except SampleError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    for folder in folders:
        mistakes = json.loads((folder / MISTAKES_FILE).read_text(encoding="utf-8"))
        files = [p for p in sorted(folder.rglob("*")) if p.suffix.lower() in (".xlsx", ".xls", ".csv")]
        kinds: dict[str, int] = {}
        for p in files:
            kinds[p.suffix.lower().lstrip(".")] = kinds.get(p.suffix.lower().lstrip("."), 0) + 1
        spec = next(s for s in ROUNDS if s.id == folder.name)
        print(f"已生成样例轮次 {folder.name}"
              f"（数据截至{spec.as_of.year}年{spec.as_of.month}月{spec.as_of.day}日）：{folder}")
        print(f"  报表文件 {len(files)} 个（" + "，".join(f"{k} {v} 个" for k, v in sorted(kinds.items())) + "）"
              f"，重大项目 {args.projects} 个")
        if mistakes:
            print(f"  故意设置的填报问题 {len(mistakes)} 处，见 {MISTAKES_FILE}")
        else:
            print("  未设置填报问题（上一轮，用于环比）")
    print("以上均为虚构的样例数据。")
    return 0


if __name__ == "__main__":
    sys.exit(main())
