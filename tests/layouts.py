"""A corpus of return layouts that real offices send, written by hand as real files.

Each layout function writes one return (a real .xlsx, .xls or .csv file) into a
round folder and returns the `Truth` about it: the figures a careful analyst would
get by adding up the project rows by hand. The rows are described once as `P`
(amounts always in 万元) and then rendered in the layout's own way: money in 元,
万元 or 亿元, group headings, 小计/合计 rows, notes, hidden columns, one sheet per
batch, and so on. Nothing here reads or imports pipeline/: the truth comes from
the rows written, not from what the cleaner happens to do.

The functions take `projects` so that the published figure sets
(tests/test_published_figures.py) can split printed totals across several
differently laid-out returns; each has a hand-made default list otherwise.
"""
from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import tempfile
import uuid
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path

import openpyxl
import xlsxwriter
from office import write_csv, write_xls
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

# --------------------------------------------------------------------------- rows and truth


@dataclass(frozen=True)
class P:
    """One project as the unit means it. plan/done/total in 万元; done is 0 for a project not started."""

    name: str
    plan: float
    done: float
    started: bool = True
    nature: str = "新建"
    batch: str = "第一批"
    total: float | None = None
    location: str = ""
    key: bool = False
    group: str = ""
    code: str = ""
    planned_start: dt.date | None = None  # 计划开工时间, where the layout has that column

    @property
    def total_wan(self) -> float:
        return self.total if self.total is not None else round(self.plan * 3, 2)


@dataclass
class Truth:
    """What the return says, added up by hand from the rows written."""

    unit: str
    as_of: str
    projects: int
    started: int
    start_base_all: int
    started_all: int
    start_base_new: int
    started_new: int
    annual_plan_wan: float
    completed_wan: float
    names: tuple[str, ...]
    files: tuple[str, ...] = ()
    batches: dict[str, int] = field(default_factory=dict)
    # header as written -> the canonical column it must map to (for the synonym layouts)
    headers: dict[str, str] = field(default_factory=dict)
    # names written in rows that are not projects (groups, 小计, 合计, notes): none may be a project
    not_projects: tuple[str, ...] = ()

    def start_rate(self, base: str) -> float | None:
        n, s = (self.start_base_new, self.started_new) if base == "new" else (self.start_base_all, self.started_all)
        return s / n * 100 if n else None


def truth_of(unit: str, as_of: str, projects: list[P], files=(), **extra) -> Truth:
    new = [p for p in projects if p.nature != "续建"]
    batches: dict[str, int] = {}
    for p in projects:
        batches[p.batch] = batches.get(p.batch, 0) + 1
    return Truth(
        unit=unit, as_of=as_of, projects=len(projects), started=sum(p.started for p in projects),
        start_base_all=len(projects), started_all=sum(p.started for p in projects),
        start_base_new=len(new), started_new=sum(p.started for p in new),
        annual_plan_wan=round(sum(p.plan for p in projects), 4), completed_wan=round(sum(p.done for p in projects), 4),
        names=tuple(p.name for p in projects), files=tuple(files), batches=batches, **extra)


def merge_truths(*truths: Truth) -> Truth:
    """The truth of several returns of one round taken together."""
    first = truths[0]
    batches: dict[str, int] = {}
    for t in truths:
        for b, n in t.batches.items():
            batches[b] = batches.get(b, 0) + n
    return Truth(
        unit="+".join(t.unit for t in truths), as_of=first.as_of,
        **{k: sum(getattr(t, k) for t in truths) for k in
           ("projects", "started", "start_base_all", "started_all", "start_base_new", "started_new")},
        annual_plan_wan=round(sum(t.annual_plan_wan for t in truths), 4),
        completed_wan=round(sum(t.completed_wan for t in truths), 4),
        names=tuple(n for t in truths for n in t.names), files=tuple(f for t in truths for f in t.files),
        batches=batches, not_projects=tuple(n for t in truths for n in t.not_projects))


def in_unit(wan: float, unit: str):
    """An amount in 万元 written in the money unit of the column or sheet."""
    if unit == "亿元":
        return round(wan / 10_000, 6)
    if unit == "元":
        return round(wan * 10_000, 2)
    if unit == "千元":
        return round(wan * 10, 3)
    return wan


def start_date(p: P, year: int, i: int):
    return dt.date(year, 1 + i % 3, 1 + (i * 7) % 27) if p.started else None


def yes(flag: bool, style: str = "是否") -> str:
    return {"是否": ("是", "否"), "√×": ("√", "×"), "已开工": ("已开工", "未开工")}[style][0 if flag else 1]


# --------------------------------------------------------------------------- writers


@dataclass
class Grid:
    """One sheet: rows (None for an empty cell), merges (0-based r1, c1, r2, c2), hidden 0-based columns,
    a number format per 0-based column for the data rows."""

    rows: list[list]
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)
    hidden_cols: tuple[int, ...] = ()
    formats: dict[int, str] = field(default_factory=dict)
    data_from: int = 0  # first row the formats apply to


def write_book(path: Path, sheets: dict[str, Grid], hidden_sheets: tuple[str, ...] = ()) -> Path:
    """An .xlsx as Excel users make it (openpyxl): merged header cells, hidden columns, number formats, widths."""
    path.parent.mkdir(parents=True, exist_ok=True)
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, grid in sheets.items():
        ws = book.create_sheet(name)
        for r, row in enumerate(grid.rows, start=1):
            for c, value in enumerate(row, start=1):
                if value is None:
                    continue
                cell = ws.cell(row=r, column=c, value=value)
                if isinstance(value, (dt.date, dt.datetime)):
                    cell.number_format = "yyyy/m/d"
                elif r - 1 >= grid.data_from and (c - 1) in grid.formats and isinstance(value, (int, float)):
                    cell.number_format = grid.formats[c - 1]
        for r1, c1, r2, c2 in grid.merges:
            ws.merge_cells(start_row=r1 + 1, start_column=c1 + 1, end_row=r2 + 1, end_column=c2 + 1)
            ws.cell(row=r1 + 1, column=c1 + 1).alignment = Alignment(horizontal="center", vertical="center",
                                                                     wrap_text=True)
        for c in range(1, max((len(r) for r in grid.rows), default=0) + 1):
            ws.column_dimensions[get_column_letter(c)].width = 14
        for c in grid.hidden_cols:
            ws.column_dimensions[get_column_letter(c + 1)].hidden = True
        if grid.rows:
            ws.cell(row=1, column=1).font = Font(bold=True, size=16)
        if name in hidden_sheets:
            ws.sheet_state = "hidden"
    book.active = next(i for i, n in enumerate(sheets) if n not in hidden_sheets)
    book.save(path)
    return path


def inline_strings(path: Path) -> Path:
    """Rewrite an .xlsx the way WPS saves it: every text cell an inline string (t="inlineStr"), no shared-string use."""
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    shared = parts.get("xl/sharedStrings.xml", b"").decode("utf-8")
    strings = [m.group(1) for m in re.finditer(r"<si>(.*?)</si>", shared, re.S)]

    def inline(m: re.Match) -> str:
        attrs = (m.group(1) + m.group(2)).strip()
        return f'<c {attrs} t="inlineStr"><is>{strings[int(m.group(3))]}</is></c>'

    for name in [n for n in parts if n.startswith("xl/worksheets/sheet")]:
        text = parts[name].decode("utf-8")
        parts[name] = re.sub(r'<c ([^>]*?)t="s"([^>]*)><v>(\d+)</v></c>', inline, text).encode("utf-8")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return path


def soffice() -> str | None:
    """The LibreOffice binary, or None when it is not installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def resaved_by_libreoffice(make, name: str, out_dir: Path, fmt: str, package: str = "calc") -> Path:
    """A file written by make(path) under a temporary folder, then re-saved by LibreOffice as fmt into out_dir
    (the way an office's suite saves it); the test is skipped where LibreOffice is not installed."""
    import pytest

    if soffice() is None:
        pytest.skip(f"LibreOffice (soffice) 未安装：apt-get install libreoffice-{package}-nogui 后可运行此测试")
    with tempfile.TemporaryDirectory() as tmp:
        return libreoffice_convert(make(Path(tmp) / name), out_dir, fmt)


def libreoffice_convert(src: Path, out_dir: Path, fmt: str) -> Path:
    """Re-save a workbook with LibreOffice (headless), with a private profile so parallel runs do not collide."""
    binary = soffice()
    if binary is None:
        raise FileNotFoundError("soffice")
    out_dir.mkdir(parents=True, exist_ok=True)
    profile = Path(tempfile.gettempdir()) / f"lo-profile-{uuid.uuid4().hex}"
    try:
        subprocess.run([binary, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", fmt,
                        "--outdir", str(out_dir), str(src)], check=True, capture_output=True, timeout=180)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    out = out_dir / f"{src.stem}.{fmt}"
    if not out.exists():
        raise FileNotFoundError(out)
    return out


# --------------------------------------------------------------------------- default project lists

YINCHUAN = [
    P("银川市滨河新区污水处理厂提标改造", 3200, 2150.5, location="银川市兴庆区", key=True),
    P("贺兰山东麓葡萄酒庄集群配套道路", 5800, 4020, location="银川市西夏区"),
    P("银川经开区新能源电池材料一期", 12500, 9875.25, location="银川市金凤区", key=True),
    P("永宁县闽宁镇冷链物流园", 2600, 0, started=False, location="银川市永宁县"),
    P("兴庆区老旧小区改造（二期）", 1850, 1210, nature="续建", location="银川市兴庆区"),
]

SHIZUISHAN = [
    P("石嘴山市大武口区煤基新材料项目", 8800, 6100, location="大武口区"),
    P("平罗县滩羊屠宰加工一体化项目", 1500, 980.4, location="平罗县", key=True),
    P("惠农区硅基新材料产业园基础设施", 4200, 0, started=False, location="惠农区"),
    P("石嘴山市第一人民医院综合楼", 3600, 2890, nature="续建", location="大武口区"),
]

WUZHONG = [
    P("利通区奶产业园标准化牧场", 2400, 1600, location="利通区", group="利通区"),
    P("利通区金积工业园区污水管网", 980, 520.5, location="利通区", group="利通区"),
    P("青铜峡市抽水蓄能电站前期工程", 15000, 7300, location="青铜峡市", group="青铜峡市", key=True),
    P("青铜峡市葡萄酒小镇游客中心", 1200, 0, started=False, location="青铜峡市", group="青铜峡市"),
    P("盐池县滩羊产业园冷库", 860, 430, nature="续建", location="盐池县", group="盐池县"),
]

GUYUAN = [
    P("固原市原州区肉牛良种繁育中心", 3000, 2100, location="原州区", group="产业项目"),
    P("西吉县马铃薯精深加工", 2200, 1450.75, location="西吉县", group="产业项目"),
    P("隆德县文化旅游综合体", 1800, 0, started=False, location="隆德县", group="产业项目"),
    P("固原市城乡供水一体化（一期）", 9600, 6200, nature="续建", location="原州区", group="基础设施项目", key=True),
    P("泾源县农村公路提升改造", 1350, 900, location="泾源县", group="基础设施项目"),
]

ZHONGWEI = [
    P("中卫市沙坡头数据中心集群一期", 26000, 18800, location="沙坡头区", key=True),
    P("中宁县枸杞深加工产业园", 3100, 2050, location="中宁县"),
    P("海原县肉牛养殖基地", 1700, 0, started=False, location="海原县"),
    P("中卫市工业园区铁路专用线", 5200, 3900.6, nature="续建", location="沙坡头区"),
    P("中卫市美利纸业技改", 2300, 0, started=False, location="沙坡头区"),
    P("中宁县城区供热管网改造", 1250, 0, started=False, location="中宁县"),
]

NINGDONG = [
    P("宁东基地煤制油副产品深加工", 42000, 31500, location="宁东基地"),
    P("宁东基地光伏制氢示范项目", 18000, 11200.8, location="宁东基地", key=True),
    P("宁东基地化工新材料园区道路", 2600, 1850, nature="续建", location="宁东基地"),
]


def _default(projects, default):
    return list(default if projects is None else projects)


def _num(v):
    """A number as written: whole numbers without a trailing .0."""
    return int(v) if float(v).is_integer() else v


# --------------------------------------------------------------------------- layouts


def merged_2019(folder: Path, projects: list[P] | None = None, unit: str = "银川市", name: str | None = None) -> Truth:
    """Title, 单位：万元, a merged two-row header “2019年投资” over “年度计划” and “1-10月完成”, 合计 last, footer."""
    ps = _default(projects, YINCHUAN)
    top = ["序号", "项目名称", "批次", "建设性质", "所在县区", "总投资", "2019年投资", None, "是否开工", "开工时间",
           "责任单位"]
    sub = [None] * 6 + ["年度计划", "1-10月完成"] + [None] * 3
    rows = [["2019年集中开工重大项目进展情况表"], [None] * 9 + ["单位：万元"], top, sub]
    for i, p in enumerate(ps, start=1):
        rows.append([i, p.name, p.batch, p.nature, p.location, _num(p.total_wan), _num(p.plan), _num(p.done),
                     yes(p.started), start_date(p, 2019, i), "某建设公司"])
    rows.append(["合计", None, None, None, None, _num(round(sum(p.total_wan for p in ps), 2)),
                 _num(round(sum(p.plan for p in ps), 2)), _num(round(sum(p.done for p in ps), 2))])
    rows += [[], [f"填报单位：{unit}发展和改革局    填报人：王五    联系电话：0951-1234567"]]
    merges = [(0, 0, 0, 10), (2, 6, 2, 7)] + [(2, j, 3, j) for j in (0, 1, 2, 3, 4, 5, 8, 9, 10)]
    file = name or f"{unit}重大项目进展情况表（10月）.xlsx"
    write_book(folder / file,
               {"Sheet1": Grid(rows, merges, formats={5: "#,##0.00", 6: "#,##0.00", 7: "#,##0.00"}, data_from=4)})
    return truth_of(unit, "2019-10-31", ps, (file,), not_projects=("合计",))


def investment_2022_xls(folder: Path, projects: list[P] | None = None, unit: str = "石嘴山市") -> Truth:
    """Legacy .xls: “2022年” over “计划投资” and “2022年投资完成情况” over “1-8月完成”, 序号 1.., 合计 last."""
    ps = _default(projects, SHIZUISHAN)
    top = ["序号", "项目名称", "集中开工批次", "建设性质", "所在地区", "总投资", "2022年", "2022年投资完成情况",
           "是否开工", "开工时间"]
    sub = [None] * 6 + ["计划投资", "1-8月完成"] + [None] * 2
    rows = [["2022年第一批集中开工重大项目进展情况表"], ["单位：万元"], top, sub]
    for i, p in enumerate(ps, start=1):
        rows.append([i, p.name, p.batch, p.nature, p.location, p.total_wan, p.plan, p.done, yes(p.started),
                     (start_date(p, 2022, i) or "")])
    rows.append(["合计", None, None, None, None, round(sum(p.total_wan for p in ps), 2),
                 round(sum(p.plan for p in ps), 2),
                 round(sum(p.done for p in ps), 2)])
    rows += [[], [f"填报单位：{unit}发展和改革委员会"]]
    merges = [(0, 0, 0, 9)] + [(2, j, 3, j) for j in (0, 1, 2, 3, 4, 5, 8, 9)]
    file = f"{unit}附件2.xls"
    write_xls(folder / file, {"重大项目": rows}, {"重大项目": merges})
    return truth_of(unit, "2022-08-31", ps, (file,), not_projects=("合计",))


def three_row_header(folder: Path, projects: list[P] | None = None, unit: str = "中卫市") -> Truth:
    """xlsxwriter: a title merged across, a group row (项目基本情况 / 投资情况（万元） / 建设情况),
    a second level (总投资, 2021年投资 over 年度计划 and 1-11月完成), sub-headers; 合计 first, under the header."""
    ps = _default(projects, ZHONGWEI)
    file = f"{unit}2021年重大项目推进表.xlsx"
    path = folder / file
    path.parent.mkdir(parents=True, exist_ok=True)
    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet("推进表")
    title = book.add_format({"bold": True, "font_size": 18, "align": "center"})
    head = book.add_format({"bold": True, "align": "center", "valign": "vcenter", "border": 1, "text_wrap": True,
                            "bg_color": "#D9E1F2"})
    money = book.add_format({"num_format": "#,##0.00", "border": 1})
    text = book.add_format({"border": 1})
    date = book.add_format({"num_format": "yyyy年m月d日", "border": 1})
    ws.merge_range(0, 0, 0, 9, "2021年第二批集中开工重大项目推进情况表", title)
    # row 1: groups; row 2: second level; row 3: sub-headers
    ws.merge_range(1, 0, 3, 0, "序号", head)
    ws.merge_range(1, 1, 1, 4, "项目基本情况", head)
    for j, h in ((1, "项目名称"), (2, "批次"), (3, "建设性质"), (4, "所在县区")):
        ws.merge_range(2, j, 3, j, h, head)
    ws.merge_range(1, 5, 1, 7, "投资情况（万元）", head)
    ws.merge_range(2, 5, 3, 5, "总投资", head)
    ws.merge_range(2, 6, 2, 7, "2021年投资", head)
    ws.write(3, 6, "年度计划", head)
    ws.write(3, 7, "1-11月完成", head)
    ws.merge_range(1, 8, 1, 9, "建设情况", head)
    ws.merge_range(2, 8, 3, 8, "是否开工", head)
    ws.merge_range(2, 9, 3, 9, "开工时间", head)
    ws.write(4, 0, "合计", text)
    ws.write(4, 5, round(sum(p.total_wan for p in ps), 2), money)
    ws.write(4, 6, round(sum(p.plan for p in ps), 2), money)
    ws.write(4, 7, round(sum(p.done for p in ps), 2), money)
    for i, p in enumerate(ps, start=1):
        r = 4 + i
        ws.write_number(r, 0, i, text)
        for j, v in ((1, p.name), (2, p.batch), (3, p.nature), (4, p.location), (8, yes(p.started))):
            ws.write_string(r, j, v, text)
        for j, v in ((5, p.total_wan), (6, p.plan), (7, p.done)):
            ws.write_number(r, j, v, money)
        d = start_date(p, 2021, i)
        if d:
            ws.write_datetime(r, 9, dt.datetime(d.year, d.month, d.day), date)
    ws.write(6 + len(ps), 0, f"填报单位：{unit}发展和改革委员会")
    ws.set_column(0, 9, 15)
    book.close()
    return truth_of(unit, "2021-11-30", ps, (file,), not_projects=("合计",))


def unit_row_far_right_yi(folder: Path, projects: list[P] | None = None, unit: str = "宁东基地") -> Truth:
    """The unit row “单位：亿元” in the far-right cell of the row above the header; all money in 亿元."""
    ps = _default(projects, NINGDONG)
    header = ["序号", "项目名称", "批次", "建设性质", "总投资", "年度计划投资", "累计完成投资", "是否开工", "开工时间",
              "包抓领导"]
    rows = [[f"{unit}2021年集中开工重大项目进展情况"], [None] * 9 + ["单位：亿元"], header]
    for i, p in enumerate(ps, start=1):
        rows.append([i, p.name, p.batch, p.nature, in_unit(p.total_wan, "亿元"), in_unit(p.plan, "亿元"),
                     in_unit(p.done, "亿元"), yes(p.started), start_date(p, 2021, i), "张某"])
    rows += [[], [f"填报单位：{unit}管委会经济发展局"]]
    file = f"{unit}项目进展.xlsx"
    write_book(folder / file,
               {"进展": Grid(rows, [(0, 0, 0, 9)], formats={4: "0.0000", 5: "0.0000", 6: "0.0000"}, data_from=3)})
    return truth_of(unit, "2021-11-30", ps, (file,))


def hidden_helper_column(folder: Path, projects: list[P] | None = None, unit: str = "银川市") -> Truth:
    """A hidden helper column (“辅助列”, the plan in 元 for a lookup) between 年度计划投资 and 累计完成投资."""
    ps = _default(projects, YINCHUAN)
    header = ["序号", "项目名称", "批次", "建设性质", "总投资", "年度计划投资", "辅助列", "累计完成投资", "是否开工",
              "开工时间"]
    rows = [["重大项目进展情况表"], ["单位：万元"], header]
    for i, p in enumerate(ps, start=1):
        rows.append([i, p.name, p.batch, p.nature, p.total_wan, p.plan, in_unit(p.plan, "元"), p.done, yes(p.started),
                     start_date(p, 2021, i)])
    rows += [[], [f"填报单位：{unit}"]]
    file = f"{unit}_hidden.xlsx"
    write_book(folder / file, {"Sheet1": Grid(rows, hidden_cols=(6,))})
    return truth_of(unit, "2021-11-30", ps, (file,))


def instructions_and_notes(folder: Path, projects: list[P] | None = None, unit: str = "固原市") -> Truth:
    """填表说明 rows above the header, 注： rows below the data, then the footer."""
    ps = _default(projects, GUYUAN)
    header = ["序号", "项目名称", "批次", "建设性质", "年度计划投资", "累计完成投资", "是否开工", "开工时间"]
    rows = [["2021年集中开工重大项目进展情况表"],
            ["填表说明：1.本表由各市发展改革委汇总填报；2.金额单位为万元；3.累计完成投资填写1月至本月底数据。"],
            ["说明：未开工项目累计完成投资填0。"],
            [], header]
    for i, p in enumerate(ps, start=1):
        rows.append([i, p.name, p.batch, p.nature, p.plan, p.done, yes(p.started), start_date(p, 2021, i)])
    notes = ["注：1.西吉县马铃薯精深加工项目已于3月复工。", "注：2.数据来源为各县区发展改革局报送。"]
    rows += [[], [notes[0]], [notes[1]], [f"填报单位：{unit}发展和改革委员会    审核人：李某"]]
    file = f"{unit}报表.xlsx"
    write_book(folder / file, {"Sheet1": Grid(rows, [(0, 0, 0, 7), (1, 0, 1, 7)])})
    return truth_of(unit, "2021-11-30", ps, (file,), not_projects=tuple(notes))


def total_first(folder: Path, projects: list[P] | None = None, unit: str = "吴忠市") -> Truth:
    """合计 right under the header (its name cell says “合计（5个）”), then the projects."""
    ps = _default(projects, WUZHONG)
    header = ["序号", "项目名称", "批次", "建设性质", "年度计划投资", "累计完成投资", "是否开工", "开工时间"]
    label = f"合计（{len(ps)}个）"
    rows = [[f"{unit}重大项目进展情况表"], ["单位：万元"], header,
            [None, label, None, None, round(sum(p.plan for p in ps), 2), round(sum(p.done for p in ps), 2)]]
    for i, p in enumerate(ps, start=1):
        rows.append([i, p.name, p.batch, p.nature, p.plan, p.done, yes(p.started), start_date(p, 2021, i)])
    rows += [[f"填报单位：{unit}"]]
    file = f"{unit}_合计在前.xlsx"
    write_book(folder / file, {"Sheet1": Grid(rows)})
    return truth_of(unit, "2021-11-30", ps, (file,), not_projects=(label,))


def total_last_yuan(folder: Path, projects: list[P] | None = None, unit: str = "石嘴山市") -> Truth:
    """Money in 元 for the whole sheet (单位：元), 总计 last, then a blank row and the footer."""
    ps = _default(projects, SHIZUISHAN)
    header = ["序号", "项目名称", "批次", "建设性质", "年度计划投资", "累计完成投资", "是否开工", "开工时间"]
    rows = [[f"{unit}重大项目进展情况表"], ["单位：元"], header]
    for i, p in enumerate(ps, start=1):
        rows.append([i, p.name, p.batch, p.nature, in_unit(p.plan, "元"), in_unit(p.done, "元"), yes(p.started),
                     start_date(p, 2021, i)])
    rows.append(["总计", None, None, None, in_unit(sum(p.plan for p in ps), "元"),
                 in_unit(sum(p.done for p in ps), "元")])
    rows += [[], [f"填报单位：{unit}发展和改革委员会"]]
    file = f"{unit}_元.xlsx"
    write_book(folder / file, {"Sheet1": Grid(rows, formats={4: "#,##0", 5: "#,##0"}, data_from=3)})
    return truth_of(unit, "2021-11-30", ps, (file,), not_projects=("总计",))


def district_subtotals(folder: Path, projects: list[P] | None = None, unit: str = "吴忠市") -> Truth:
    """Groups by district: a heading “（一）利通区” (序号 empty, no amounts), its projects (序号 1, 2, …),
    then “利通区小计” in the name column with the group's amounts; 合计 last."""
    ps = _default(projects, WUZHONG)
    header = ["序号", "项目名称", "批次", "建设性质", "所在县区", "年度计划投资", "累计完成投资", "是否开工",
              "开工时间"]
    rows = [[f"{unit}2021年重大项目进展情况表"], ["单位：万元"], header]
    numerals = "一二三四五六七八九十"
    groups = list(dict.fromkeys(p.group or "其他" for p in ps))
    labels = []
    for g_i, group in enumerate(groups):
        members = [p for p in ps if (p.group or "其他") == group]
        heading, subtotal = f"（{numerals[g_i]}）{group}", f"{group}小计"
        labels += [heading, subtotal]
        rows.append([None, heading])
        for i, p in enumerate(members, start=1):
            rows.append([i, p.name, p.batch, p.nature, p.location, p.plan, p.done, yes(p.started),
                         start_date(p, 2021, i)])
        rows.append([None, subtotal, None, None, None, round(sum(p.plan for p in members), 2),
                     round(sum(p.done for p in members), 2)])
    rows.append(["合计", None, None, None, None, round(sum(p.plan for p in ps), 2), round(sum(p.done for p in ps), 2)])
    rows += [[f"填报单位：{unit}"]]
    file = f"{unit}_分区小计.xlsx"
    write_book(folder / file, {"Sheet1": Grid(rows)})
    return truth_of(unit, "2021-11-30", ps, (file,), not_projects=(*labels, "合计"))


def group_headings_with_amounts(folder: Path, projects: list[P] | None = None, unit: str = "固原市") -> Truth:
    """Group headings that carry their group's amounts: 序号 “一” and name “产业项目（3个）”, projects 序号 1.1, 1.2…;
    a second heading “二、基础设施项目” written in the name cell with 序号 empty and no amounts; 合计 first."""
    ps = _default(projects, GUYUAN)
    header = ["序号", "项目名称", "批次", "建设性质", "年度计划投资", "累计完成投资", "是否开工", "开工时间"]
    rows = [[f"{unit}重大项目进展情况表"], ["单位：万元"], header,
            ["合计", None, None, None, round(sum(p.plan for p in ps), 2), round(sum(p.done for p in ps), 2)]]
    numerals = "一二三四五六七八九十"
    groups = list(dict.fromkeys(p.group or "其他项目" for p in ps))
    labels = ["合计"]
    for g_i, group in enumerate(groups, start=1):
        members = [p for p in ps if (p.group or "其他项目") == group]
        if g_i % 2 == 1:  # heading with its amounts: 序号 一, name 产业项目（3个）
            label = f"{group}（{len(members)}个）"
            rows.append([numerals[g_i - 1], label, None, None, round(sum(p.plan for p in members), 2),
                         round(sum(p.done for p in members), 2)])
        else:  # heading as one text in the name column, no amounts
            label = f"{numerals[g_i - 1]}、{group}"
            rows.append([None, label])
        labels.append(label)
        for i, p in enumerate(members, start=1):
            rows.append([f"{g_i}.{i}", p.name, p.batch, p.nature, p.plan, p.done, yes(p.started),
                         start_date(p, 2021, i)])
    rows += [[f"填报单位：{unit}发展和改革委员会"]]
    file = f"{unit}_分类.xlsx"
    write_book(folder / file, {"Sheet1": Grid(rows)})
    return truth_of(unit, "2021-11-30", ps, (file,), not_projects=tuple(labels))


def sheet_per_batch(folder: Path, projects: list[P] | None = None, unit: str = "中卫市", year: int = 2022) -> Truth:
    """One sheet per batch (第一批, 第二批), each titled “2022年第X批集中开工重大项目进展情况表”; no 批次 column."""
    ps = _default(projects, [replace(p, batch="第二批" if i % 2 else "第一批") for i, p in enumerate(ZHONGWEI)])
    header = ["序号", "项目名称", "建设性质", "总投资", f"{year}年计划投资", "累计完成投资", "是否开工", "开工时间"]
    sheets = {}
    for batch in ("第一批", "第二批"):
        members = [p for p in ps if p.batch == batch]
        rows = [[f"{year}年{batch}集中开工重大项目进展情况表"], ["单位：万元"], header]
        for i, p in enumerate(members, start=1):
            rows.append([i, p.name, p.nature, p.total_wan, p.plan, p.done, yes(p.started), start_date(p, year, i)])
        rows.append(["合计", None, None, round(sum(p.total_wan for p in members), 2),
                     round(sum(p.plan for p in members), 2),
                     round(sum(p.done for p in members), 2)])
        rows += [[f"填报单位：{unit}发展和改革委员会"]]
        sheets[batch] = Grid(rows, [(0, 0, 0, 7)])
    file = f"{unit}{year}年集中开工项目（分批）.xlsx"
    write_book(folder / file, sheets)
    return truth_of(unit, f"{year}-08-31", ps, (file,), not_projects=("合计",))


def money_per_column(folder: Path, projects: list[P] | None = None, unit: str = "银川市") -> Truth:
    """Each money column states its own unit: 总投资（亿元）, 年度计划投资（万元）, 累计完成投资（元）."""
    ps = _default(projects, YINCHUAN)
    header = ["序号", "项目名称", "批次", "建设性质", "总投资（亿元）", "年度计划投资（万元）", "累计完成投资\n（元）",
              "是否开工"]
    rows = [[f"{unit}重大项目进展情况表"], header]
    for i, p in enumerate(ps, start=1):
        rows.append([i, p.name, p.batch, p.nature, in_unit(p.total_wan, "亿元"), p.plan, in_unit(p.done, "元"),
                     yes(p.started)])
    rows += [[f"填报单位：{unit}"]]
    file = f"{unit}_分列单位.xlsx"
    write_book(folder / file, {"Sheet1": Grid(rows, formats={4: "0.00", 5: "#,##0.00", 6: "#,##0"}, data_from=2)})
    return truth_of(unit, "2021-11-30", ps, (file,))


SYNONYM_HEADERS = {
    "序号": "seq", "项目名称": "project_name", "开工批次": "batch", "所在市": "location", "建设性质": "nature",
    "是否重点": "is_key", "总投资": "total_investment", "年度计划": "annual_plan", "1-10月完成投资": "completed",
    "完成率(%)": "stated_completion_pct", "开工情况": "started", "计划开工时间": "planned_start_date",
    "开工时间": "start_date", "是否纳统": "in_stats", "项目建设单位": "responsible_unit",
}


def synonyms(folder: Path, projects: list[P] | None = None, unit: str = "银川市") -> Truth:
    """Synonym headers: 所在市, 是否纳统, 开工情况 (已开工/未开工), 项目建设单位, √/× in 是否重点,
    完成率(%) beside the completion column, 计划开工时间 beside 开工时间, 总投资 beside 年度计划."""
    ps = _default(projects, YINCHUAN)
    header = list(SYNONYM_HEADERS)
    rows = [["2021年第一批集中开工重大项目进展情况表"], ["单位：万元"], header]
    for i, p in enumerate(ps, start=1):
        rate = round(p.done / p.plan * 100, 1) if p.plan else 0
        rows.append([i, p.name, p.batch, unit, p.nature, yes(p.key, "√×"), p.total_wan, p.plan, p.done, rate,
                     yes(p.started, "已开工"), p.planned_start or dt.date(2021, 3, 1), start_date(p, 2021, i),
                     yes(p.started), "宁夏某建设有限公司"])
    rows += [[f"填报单位：{unit}"]]
    file = f"{unit}_同义表头.xlsx"
    write_book(folder / file, {"Sheet1": Grid(rows)})
    return truth_of(unit, "2021-10-31", ps, (file,), headers=dict(SYNONYM_HEADERS))


def location_synonym_xls(folder: Path, projects: list[P] | None = None, unit: str = "石嘴山市") -> Truth:
    """An .xls with 所在地区, 是否入统 written 是否纳统, 项目建设单位, and 开工情况 as 已开工/未开工."""
    ps = _default(projects, SHIZUISHAN)
    headers = {"序号": "seq", "项目名称": "project_name", "批次": "batch", "所在地区": "location", "建设性质": "nature",
               "年度计划投资": "annual_plan", "累计完成投资": "completed", "开工情况": "started",
               "是否纳统": "in_stats",
               "项目建设单位": "responsible_unit", "计划开工时间": "planned_start_date"}
    rows = [["重大项目进展情况表"], ["单位：万元"], list(headers)]
    for i, p in enumerate(ps, start=1):
        planned = p.planned_start or dt.date(2021, 4, 1)
        rows.append([i, p.name, p.batch, p.location, p.nature, p.plan, p.done, yes(p.started, "已开工"), yes(p.started),
                     "某集团", planned])
    rows += [[f"填报单位：{unit}"]]
    file = f"{unit}_所在地区.xls"
    write_xls(folder / file, {"Sheet1": rows})
    return truth_of(unit, "2021-11-30", ps, (file,), headers=headers)


NOT_STARTED_MARKS = ("—", "/", "无", None)


def not_started_placeholders(folder: Path, projects: list[P] | None = None, unit: str = "中卫市") -> Truth:
    """Projects not started whose 累计完成投资 is “—”, “/”, “无” or blank (and 开工时间 “/”): each is a project
    with 0."""
    ps = _default(projects, ZHONGWEI)
    header = ["序号", "项目名称", "批次", "建设性质", "年度计划投资", "累计完成投资", "是否开工", "开工时间"]
    rows = [["重大项目进展情况表"], ["单位：万元"], header]
    k = 0
    for i, p in enumerate(ps, start=1):
        if p.started:
            done, when = p.done, start_date(p, 2021, i)
        else:
            done, when = NOT_STARTED_MARKS[k % len(NOT_STARTED_MARKS)], "/"
            k += 1
        rows.append([i, p.name, p.batch, p.nature, p.plan, done, yes(p.started), when])
    rows += [[f"填报单位：{unit}"]]
    file = f"{unit}_未开工.xlsx"
    write_book(folder / file, {"Sheet1": Grid(rows)})
    return truth_of(unit, "2021-11-30", ps, (file,))


def wps_inline_strings(folder: Path, projects: list[P] | None = None, unit: str = "宁东基地") -> Truth:
    """As WPS saves it: every text an inline string, amounts typed as text with thousands separators,
    a merged “本年投资” over “计划” and “完成”."""
    ps = _default(projects, NINGDONG)
    top = ["序号", "项目名称", "批次", "建设性质", "总投资", "本年投资", None, "是否开工", "开工时间"]
    sub = [None] * 5 + ["计划", "完成"] + [None] * 2
    rows = [["重大项目建设进展情况"], ["单位：万元"], top, sub]
    for i, p in enumerate(ps, start=1):
        d = start_date(p, 2021, i)
        rows.append([str(i), p.name, p.batch, p.nature, f"{p.total_wan:,.2f}", f"{p.plan:,.2f}", f"{p.done:,.2f}",
                     yes(p.started), f"{d.year}.{d.month}.{d.day}" if d else ""])
    rows += [[f"填报单位：{unit}"]]
    merges = [(2, 5, 2, 6)] + [(2, j, 3, j) for j in (0, 1, 2, 3, 4, 7, 8)]
    file = f"{unit}（WPS）.xlsx"
    inline_strings(write_book(folder / file, {"Sheet1": Grid(rows, merges)}))
    return truth_of(unit, "2021-11-30", ps, (file,))


def gb18030_csv(folder: Path, projects: list[P] | None = None, unit: str = "固原市") -> Truth:
    """A .csv saved by Excel on Chinese Windows (GB18030): title row, unit row, thousands separators, 合计, footer."""
    ps = _default(projects, GUYUAN)
    rows = [[f"{unit}重大项目进展情况表（11月）"], ["单位：万元"],
            ["序号", "项目名称", "批次", "建设性质", "总投资", "年度计划投资", "1-11月完成投资", "是否开工",
             "开工时间"]]
    for i, p in enumerate(ps, start=1):
        d = start_date(p, 2021, i)
        rows.append([i, p.name, p.batch, p.nature, f"{p.total_wan:,.2f}", f"{p.plan:,.2f}", f"{p.done:,.2f}",
                     yes(p.started), f"{d.year}年{d.month}月{d.day}日" if d else ""])
    rows.append(["合计", "", "", "", f"{sum(p.total_wan for p in ps):,.2f}", f"{sum(p.plan for p in ps):,.2f}",
                 f"{sum(p.done for p in ps):,.2f}", "", ""])
    rows += [[f"填报单位：{unit}发展和改革委员会"]]
    file = f"{unit}重大项目.csv"
    write_csv(folder / file, rows, encoding="gb18030")
    return truth_of(unit, "2021-11-30", ps, (file,), not_projects=("合计",))


def libreoffice_resaved(folder: Path, fmt: str, projects: list[P] | None = None, unit: str = "银川市") -> Truth:
    """The merged two-row return, re-saved by LibreOffice as .xls or .xlsx (soffice --headless --convert-to)."""
    with tempfile.TemporaryDirectory() as tmp:
        src_dir = Path(tmp)
        truth = merged_2019(src_dir, projects, unit, name=f"{unit}重大项目（LibreOffice）.xlsx")
        out = libreoffice_convert(src_dir / truth.files[0], folder, fmt)
    return replace(truth, files=(out.name,))


# --------------------------------------------------------------------------- more layouts seen in real returns


def nested_groups_in_seq_column(folder: Path, projects: list[P] | None = None, unit: str = "银川市") -> Truth:
    """Three levels written in the 序号 column: “一” over “产业项目”, “（一）” over a district name alone
    (“兴庆区”), both carrying their amounts, then projects numbered 1, 2…; 合计 first and a “其中：续建项目” row."""
    ps = _default(projects, [replace(p, group=p.location.replace("银川市", "")) for p in YINCHUAN])
    header = ["序号", "项目名称", "批次", "建设性质", "年度计划投资", "累计完成投资", "是否开工", "开工时间"]
    cont = [p for p in ps if p.nature == "续建"]
    rows = [[f"{unit}2021年重大项目进展情况表"], ["单位：万元"], header,
            [None, "合计", None, None, round(sum(p.plan for p in ps), 2), round(sum(p.done for p in ps), 2)],
            [None, "其中：续建项目", None, None, round(sum(p.plan for p in cont), 2),
             round(sum(p.done for p in cont), 2)],
            ["一", "产业项目", None, None, round(sum(p.plan for p in ps), 2), round(sum(p.done for p in ps), 2)]]
    numerals = "一二三四五六七八九十"
    labels = ["合计", "其中：续建项目", "产业项目"]
    n = 0
    for g_i, group in enumerate(dict.fromkeys(p.group for p in ps)):
        members = [p for p in ps if p.group == group]
        rows.append([f"（{numerals[g_i]}）", group, None, None, round(sum(p.plan for p in members), 2),
                     round(sum(p.done for p in members), 2)])
        labels.append(group)
        for p in members:
            n += 1
            rows.append([n, p.name, p.batch, p.nature, p.plan, p.done, yes(p.started), start_date(p, 2021, n)])
    rows += [[f"填报单位：{unit}"]]
    file = f"{unit}_三级分组.xlsx"
    write_book(folder / file, {"Sheet1": Grid(rows)})
    return truth_of(unit, "2021-11-30", ps, (file,), not_projects=tuple(labels))


def hidden_stale_column(folder: Path, projects: list[P] | None = None, unit: str = "吴忠市") -> Truth:
    """Last month's “1-10月完成投资” kept in a hidden column right before this month's visible “1-11月完成投资”:
    the visible column is what the unit reports."""
    ps = _default(projects, WUZHONG)
    header = ["序号", "项目名称", "批次", "建设性质", "年度计划投资", "1-10月完成投资", "1-11月完成投资", "是否开工"]
    rows = [[f"{unit}重大项目进展情况表（11月）"], ["单位：万元"], header]
    for i, p in enumerate(ps, start=1):
        rows.append([i, p.name, p.batch, p.nature, p.plan, round(p.done * 0.8, 2), p.done, yes(p.started)])
    rows += [[f"填报单位：{unit}"]]
    file = f"{unit}_隐藏上月列.xlsx"
    write_book(folder / file, {"Sheet1": Grid(rows, hidden_cols=(5,))})
    return truth_of(unit, "2021-11-30", ps, (file,))


def unit_only_in_title(folder: Path, projects: list[P] | None = None, unit: str = "中卫市") -> Truth:
    """No footer and a file named 附件1: the unit stands only in the title (“中卫市2021年…”); headers with line
    breaks and a space inside; dates typed as text “2021.3.15”."""
    ps = _default(projects, ZHONGWEI)
    header = ["序 号", "项目\n名称", "批次", "建设\n性质", "年度计划\n投资", "累计完成\n投资", "是否\n开工",
              "开工\n时间"]
    rows = [[f"{unit}2021年集中开工重大项目进展情况表"], ["单位：万元"], header]
    for i, p in enumerate(ps, start=1):
        d = start_date(p, 2021, i)
        rows.append([i, p.name, p.batch, p.nature, p.plan, p.done, yes(p.started),
                     f"{d.year}.{d.month}.{d.day}" if d else ""])
    file = "附件1.xlsx"
    write_book(folder / file, {"Sheet1": Grid(rows)})
    return truth_of(unit, "2021-11-30", ps, (file,))


def qianyuan_in_title_row(folder: Path, projects: list[P] | None = None, unit: str = "宁东基地") -> Truth:
    """Money in 千元, stated as “单位：千元” at the far right of the title row itself; footer names the unit."""
    ps = _default(projects, NINGDONG)
    header = ["序号", "项目名称", "批次", "建设性质", "年度计划投资", "累计完成投资", "是否开工"]
    rows = [["2021年集中开工重大项目进展情况表", None, None, None, None, None, "单位：千元"], header]
    for i, p in enumerate(ps, start=1):
        rows.append([i, p.name, p.batch, p.nature, in_unit(p.plan, "千元"), in_unit(p.done, "千元"), yes(p.started)])
    rows += [[f"填报单位：{unit}管委会"]]
    file = f"{unit}_千元.xlsx"
    write_book(folder / file, {"Sheet1": Grid(rows)})
    return truth_of(unit, "2021-11-30", ps, (file,))


def placeholder_codes(folder: Path, projects: list[P] | None = None, unit: str = "固原市") -> Truth:
    """A 项目编号 column where projects not yet coded say “待赋码”: they are different projects, not duplicates."""
    ps = _default(projects, GUYUAN)
    header = ["序号", "项目编号", "项目名称", "批次", "建设性质", "年度计划投资", "累计完成投资", "是否开工"]
    rows = [[f"{unit}重大项目进展情况表"], ["单位：万元"], header]
    for i, p in enumerate(ps, start=1):
        code = "待赋码" if i % 2 else f"2021-640400-{i:02d}-01-0{i}5{i}8{i}"
        rows.append([i, code, p.name, p.batch, p.nature, p.plan, p.done, yes(p.started)])
    rows += [[f"填报单位：{unit}"]]
    file = f"{unit}_待赋码.xlsx"
    write_book(folder / file, {"Sheet1": Grid(rows)})
    return truth_of(unit, "2021-11-30", ps, (file,))


def _simple_rows(ps: list[P], title: str, unit: str, scale: float = 1.0) -> list[list]:
    header = ["序号", "项目名称", "批次", "建设性质", "年度计划投资", "累计完成投资", "是否开工"]
    rows = [[title], ["单位：万元"], header]
    for i, p in enumerate(ps, start=1):
        rows.append([i, p.name, p.batch, p.nature, p.plan, round(p.done * scale, 2), yes(p.started)])
    return rows + [[f"填报单位：{unit}"]]


def hidden_stale_sheet(folder: Path, projects: list[P] | None = None, unit: str = "石嘴山市") -> Truth:
    """Last month's sheet “10月” kept hidden before the live sheet “11月”, same projects with older amounts."""
    ps = _default(projects, SHIZUISHAN)
    file = f"{unit}重大项目进展（11月）.xlsx"
    write_book(folder / file, {"10月": Grid(_simple_rows(ps, "重大项目进展情况表（10月）", unit, 0.7)),
                               "11月": Grid(_simple_rows(ps, "重大项目进展情况表（11月）", unit))},
                               hidden_sheets=("10月",))
    return truth_of(unit, "2021-11-30", ps, (file,))


def corrected_resend(folder: Path, projects: list[P] | None = None, unit: str = "吴忠市") -> Truth:
    """The unit sent its return, then a corrected one “（修改版）” beside it: the corrected figures are the return."""
    ps = _default(projects, WUZHONG)
    first = f"{unit}重大项目进展情况表.xlsx"
    write_book(folder / first, {"Sheet1": Grid(_simple_rows(ps, "重大项目进展情况表", unit, 0.5))})
    corrected = f"{unit}重大项目进展情况表（修改版）.xlsx"
    write_book(folder / corrected, {"Sheet1": Grid(_simple_rows(ps, "重大项目进展情况表", unit))})
    return truth_of(unit, "2021-11-30", ps, (first, corrected))


def started_with_dash(folder: Path, unit: str = "银川市") -> tuple[Truth, str]:
    """A project marked started whose 累计完成投资 is “—”: its amount is unknown (an error to fix), yet it is a project.
    Returns the truth without that unknown amount, and the project's name."""
    ps = YINCHUAN
    rows = _simple_rows(ps, "重大项目进展情况表", unit)
    bad = ps[1]
    rows[3 + 1][5] = "—"
    file = f"{unit}_已开工未填.xlsx"
    write_book(folder / file, {"Sheet1": Grid(rows)})
    truth = truth_of(unit, "2021-11-30", ps, (file,))
    return replace(truth, completed_wan=round(truth.completed_wan - bad.done, 4)), bad.name


def unit_in_parent_header(folder: Path, projects: list[P] | None = None, unit: str = "银川市") -> Truth:
    """No unit row: the money unit stands in the parent header “2021年投资（亿元）” over “计划” and “完成”,
    and in “总投资（亿元）”."""
    ps = _default(projects, YINCHUAN)
    top = ["序号", "项目名称", "批次", "建设性质", "总投资（亿元）", "2021年投资（亿元）", None, "是否开工"]
    sub = [None] * 5 + ["计划", "完成", None]
    rows = [[f"{unit}重大项目进展情况表"], top, sub]
    for i, p in enumerate(ps, start=1):
        rows.append([i, p.name, p.batch, p.nature, in_unit(p.total_wan, "亿元"), in_unit(p.plan, "亿元"),
                     in_unit(p.done, "亿元"), yes(p.started)])
    rows += [[f"填报单位：{unit}"]]
    merges = [(1, 5, 1, 6)] + [(1, j, 2, j) for j in (0, 1, 2, 3, 4, 7)]
    file = f"{unit}_表头亿元.xlsx"
    write_book(folder / file, {"Sheet1": Grid(rows, merges)})
    return truth_of(unit, "2021-11-30", ps, (file,))


def period_variants(folder: Path, projects: list[P] | None = None, unit: str = "石嘴山市") -> Truth:
    """Period words as offices write them: “今年计划投资” and “截至8月底累计完成”, with “完成率（%）” beside it."""
    ps = _default(projects, SHIZUISHAN)
    header = ["序号", "项目名称", "批次", "建设性质", "今年计划投资", "截至8月底累计完成", "完成率（%）", "是否开工"]
    rows = [[f"{unit}重大项目进展情况表（8月）"], ["单位：万元"], header]
    for i, p in enumerate(ps, start=1):
        rows.append([i, p.name, p.batch, p.nature, p.plan, p.done, round(p.done / p.plan * 100, 2), yes(p.started)])
    rows += [[f"填报单位：{unit}"]]
    file = f"{unit}_截至8月底.xlsx"
    write_book(folder / file, {"Sheet1": Grid(rows)})
    return truth_of(unit, "2022-08-31", ps, (file,))


def em_dash_months_xls(folder: Path, projects: list[P] | None = None, unit: str = "吴忠市") -> Truth:
    """An .xls whose two-row header says “2022年投资” over “年度计划” and “1—8月完成” (an em dash)."""
    ps = _default(projects, WUZHONG)
    top = ["序号", "项目名称", "批次", "建设性质", "2022年投资", None, "是否开工"]
    sub = [None] * 4 + ["年度计划", "1—8月完成", None]
    rows = [["重大项目进展情况表"], ["单位：万元"], top, sub]
    for i, p in enumerate(ps, start=1):
        rows.append([i, p.name, p.batch, p.nature, p.plan, p.done, yes(p.started)])
    rows += [[f"填报单位：{unit}"]]
    merges = [(2, 4, 2, 5)] + [(2, j, 3, j) for j in (0, 1, 2, 3, 6)]
    file = f"{unit}_8月.xls"
    write_xls(folder / file, {"Sheet1": rows}, {"Sheet1": merges})
    return truth_of(unit, "2022-08-31", ps, (file,))


PACKAGED = P("高标准农田建设项目（打包12个）", 2400, 1500, location="红寺堡区")


def total_words_in_name_column(folder: Path, projects: list[P] | None = None, unit: str = "吴忠市") -> Truth:
    """“全县合计” first in the name column, “其中：省重点项目” under it, blank rows between projects, 序号 left empty,
    a packaged project “高标准农田建设项目（打包12个）” (a project, not a group), and “汇总” at the end."""
    ps = _default(projects, [*WUZHONG, PACKAGED])
    header = ["序号", "项目名称", "批次", "建设性质", "年度计划投资", "累计完成投资", "是否开工"]
    key = [p for p in ps if p.key]
    rows = [[f"{unit}重大项目进展情况表"], ["单位：万元"], header,
            [None, "全县合计", None, None, round(sum(p.plan for p in ps), 2), round(sum(p.done for p in ps), 2)],
            [None, "其中：省重点项目", None, None, round(sum(p.plan for p in key), 2),
             round(sum(p.done for p in key), 2)]]
    for i, p in enumerate(ps):
        rows.append([None, p.name, p.batch, p.nature, p.plan, p.done, yes(p.started)])
        if i % 2:
            rows.append([])
    rows.append(["汇总", None, None, None, round(sum(p.plan for p in ps), 2), round(sum(p.done for p in ps), 2)])
    rows += [[f"填报单位：{unit}"]]
    file = f"{unit}_全县合计.xlsx"
    write_book(folder / file, {"Sheet1": Grid(rows)})
    return truth_of(unit, "2021-11-30", ps, (file,), not_projects=("全县合计", "其中：省重点项目", "汇总"))


def formulas(folder: Path, projects: list[P] | None = None, unit: str = "固原市") -> Path:
    """A return whose 合计 row and each 完成率 are Excel formulas (as offices build them); written by openpyxl,
    so the formulas carry no cached value until a spreadsheet program re-saves the file. Returns the path."""
    ps = _default(projects, GUYUAN)
    header = ["序号", "项目名称", "批次", "建设性质", "年度计划投资", "累计完成投资", "完成率（%）", "是否开工"]
    rows = [[f"{unit}重大项目进展情况表"], ["单位：万元"], header]
    for i, p in enumerate(ps, start=1):
        r = 3 + i
        rows.append([i, p.name, p.batch, p.nature, p.plan, p.done, f"=ROUND(F{r}/E{r}*100,2)", yes(p.started)])
    last = 3 + len(ps)
    rows.append(["合计", None, None, None, f"=SUM(E4:E{last})", f"=SUM(F4:F{last})",
                 f"=ROUND(F{last + 1}/E{last + 1}*100,2)"])
    rows += [[f"填报单位：{unit}"]]
    return write_book(folder / f"{unit}_公式.xlsx", {"Sheet1": Grid(rows)})


def formulas_resaved_by_libreoffice(folder: Path, fmt: str = "xlsx", projects: list[P] | None = None,
                                    unit: str = "固原市") -> Truth:
    """The formula return opened and saved again in LibreOffice, which stores every formula's value."""
    ps = _default(projects, GUYUAN)
    with tempfile.TemporaryDirectory() as tmp:
        out = libreoffice_convert(formulas(Path(tmp), ps, unit), folder, fmt)
    return truth_of(unit, "2021-11-30", ps, (out.name,), not_projects=("合计",))


def group_full_text_headings(folder: Path, projects: list[P] | None = None, unit: str = "吴忠市") -> Truth:
    """Group headings as one text in the name column, “一、利通区项目（2个）”, 序号 left empty, each carrying its
    group's amounts; the projects numbered 1.1, 1.2, 2.1…; no 合计."""
    ps = _default(projects, WUZHONG)
    header = ["序号", "项目名称", "批次", "建设性质", "年度计划投资", "累计完成投资", "是否开工"]
    rows = [[f"{unit}重大项目进展情况表"], ["单位：万元"], header]
    numerals = "一二三四五六七八九十"
    labels = []
    for g_i, group in enumerate(dict.fromkeys(p.group or "其他" for p in ps), start=1):
        members = [p for p in ps if (p.group or "其他") == group]
        label = f"{numerals[g_i - 1]}、{group}项目（{len(members)}个）"
        labels.append(label)
        rows.append([None, label, None, None, round(sum(p.plan for p in members), 2),
                     round(sum(p.done for p in members), 2)])
        for i, p in enumerate(members, start=1):
            rows.append([f"{g_i}.{i}", p.name, p.batch, p.nature, p.plan, p.done, yes(p.started)])
    rows += [[f"填报单位：{unit}"]]
    file = f"{unit}_分组全称.xlsx"
    write_book(folder / file, {"Sheet1": Grid(rows)})
    return truth_of(unit, "2021-11-30", ps, (file,), not_projects=tuple(labels))


def period_headers(folder: Path, plan_header: str, done_header: str, month: int, projects: list[P] | None = None,
                   unit: str = "银川市") -> Truth:
    """A one-row header whose plan and completion columns are written with a period: “1-{m}月完成投资” etc."""
    ps = _default(projects, YINCHUAN)
    header = ["序号", "项目名称", "批次", "建设性质", "总投资", plan_header, done_header, "是否开工"]
    rows = [[f"{unit}重大项目进展情况表"], ["单位：万元"], header]
    for i, p in enumerate(ps, start=1):
        rows.append([i, p.name, p.batch, p.nature, p.total_wan, p.plan, p.done, yes(p.started)])
    rows += [[f"填报单位：{unit}"]]
    file = f"{unit}_{month}月.xlsx"
    write_book(folder / file, {"Sheet1": Grid(rows)})
    last_day = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
    return truth_of(unit, f"2021-{month:02d}-{last_day}", ps, (file,),
                    headers={plan_header: "annual_plan", done_header: "completed", "总投资": "total_investment"})


# The indicators return: 本期 beside 上年同期 (and a 同比 column) in a 主要指标情况表.
INDICATOR_ROWS = [("中央预算内资金", "万元", 52000, 41800.5), ("新增供地", "亩", 3260, 2980),
                  ("谋划储备项目", "个", 318, 276)]


def indicators_this_and_last_year(folder: Path, unit: str = "发展改革委") -> dict[str, tuple[float, float]]:
    """A 主要指标情况表 whose columns are 本期, 上年同期 and 同比增长(%): returns {指标: (本期, 上年同期)}."""
    rows = [["主要指标情况表"], ["指标名称", "计量单位", "本期", "上年同期", "同比增长(%)"]]
    for name, measure, now, last in INDICATOR_ROWS:
        rows.append([name, measure, now, last, round((now - last) / last * 100, 1)])
    rows += [[f"填报单位：自治区{unit}"]]
    write_book(folder / f"{unit}主要指标.xlsx", {"Sheet1": Grid(rows)})
    return {name: (now, last) for name, _, now, last in INDICATOR_ROWS}


# The FAI return from the statistics bureau, growth rates typed as percent-formatted cells (0.085 shown 8.5%).
FAI_ROWS = [("全区", 10, 0.085, 0.042), ("银川市", 10, 0.112, 0.061), ("石嘴山市", 10, -0.023, 0.015)]


def fai_percent_cells(folder: Path, unit: str = "发展改革委") -> dict[str, tuple[float, float]]:
    """固定资产投资情况 with 累计增速(%) and 上年同期增速(%) as percent-formatted cells: returns {地区: (8.5, 4.2)}."""
    rows = [["1-10月固定资产投资情况"], ["地区", "月份", "累计增速(%)", "上年同期增速(%)"]]
    rows += [[region, month, now, last] for region, month, now, last in FAI_ROWS]
    rows += [[f"填报单位：自治区{unit}"]]
    write_book(folder / "固定资产投资.xlsx", {"Sheet1": Grid(rows, formats={2: "0.0%", 3: "0.0%"}, data_from=2)})
    return {region: (round(now * 100, 6), round(last * 100, 6)) for region, _, now, last in FAI_ROWS}


# Every project layout with its round units, for the parametrised tests.
PROJECT_LAYOUTS = {
    "merged_2019": merged_2019,
    "investment_2022_xls": investment_2022_xls,
    "three_row_header": three_row_header,
    "unit_row_far_right_yi": unit_row_far_right_yi,
    "hidden_helper_column": hidden_helper_column,
    "instructions_and_notes": instructions_and_notes,
    "total_first": total_first,
    "total_last_yuan": total_last_yuan,
    "district_subtotals": district_subtotals,
    "group_headings_with_amounts": group_headings_with_amounts,
    "sheet_per_batch": sheet_per_batch,
    "money_per_column": money_per_column,
    "synonyms": synonyms,
    "location_synonym_xls": location_synonym_xls,
    "not_started_placeholders": not_started_placeholders,
    "wps_inline_strings": wps_inline_strings,
    "gb18030_csv": gb18030_csv,
    "nested_groups_in_seq_column": nested_groups_in_seq_column,
    "hidden_stale_column": hidden_stale_column,
    "unit_only_in_title": unit_only_in_title,
    "qianyuan_in_title_row": qianyuan_in_title_row,
    "placeholder_codes": placeholder_codes,
    "unit_in_parent_header": unit_in_parent_header,
    "period_variants": period_variants,
    "em_dash_months_xls": em_dash_months_xls,
    "total_words_in_name_column": total_words_in_name_column,
    "group_full_text_headings": group_full_text_headings,
}

ROUND_UNITS = ["银川市", "石嘴山市", "吴忠市", "固原市", "中卫市", "宁东基地", "发展改革委"]


# --------------------------------------------------------------------------- printed totals split across projects


def split(total: float, n: int, seed: int = 0) -> list[float]:
    """total (万元, to 0.01) split into n unequal positive parts that add up to it exactly (to the cent)."""
    weights = [1 + ((i + seed) * 7919) % 13 for i in range(n)]
    cents = round(total * 100)
    parts = [cents * w // sum(weights) for w in weights]
    parts[-1] += cents - sum(parts)
    return [c / 100 for c in parts]


def projects_for(prefix: str, n: int, started: int, plan_wan: float, done_wan: float, *, nature: str = "新建",
                 groups: tuple[str, ...] = ("产业项目", "基础设施项目"), seed: int = 0) -> list[P]:
    """n projects of which the first `started` are started; Σplan = plan_wan and Σdone = done_wan (the started ones)."""
    plans = split(plan_wan, n, seed)
    dones = split(done_wan, started, seed + 5) + [0.0] * (n - started) if started else [0.0] * n
    return [P(f"{prefix}{nature}项目{i + 1:03d}", plans[i], dones[i], started=i < started, nature=nature,
              location=prefix, group=groups[i % len(groups)]) for i in range(n)]
