"""What a round's figures leave out, and whom it concerns: the report never passes part of the data off as the whole.

From the ledger, the problems, the quarantine and the clean tables of step 1:
- units that sent nothing (未报送);
- files and sheets that could not be used (unreadable, not a return, a cleaner failure);
- sheets missing a required column;
- rows set aside (quarantined; a duplicate already counted once is not a loss);
- amounts set aside in kept rows (an unreadable, negative or implausible amount).
`assess` gathers them; `quality_values` gives the `data_quality.*` keys of indicators.json;
`caveat` the words the headline sentence carries, e.g. “（不含石嘴山市、吴忠市报表）”.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pipeline import schemas
from pipeline.ingest import artifacts
from pipeline.ingest.problems import SET_ASIDE_CODES  # kept rows with a value left out (problems.csv)

# Money in the ledger may differ by the rounding of floating-point sums.
LEDGER_TOLERANCE_WAN = 0.01

# Ledger statuses of a file or sheet that was not used at all.
REJECTED_STATUSES = ("无法读取", "处理失败", "未读取")



# The headline figures each return kind feeds.
KIND_FIGURES = {
    "projects": "两批次集中开工重大项目个数、开工率、完成投资和投资完成率（含重点项目）",
    "major_works": "“十大工程项目”推进情况",
    "attraction": "招商引资项目个数、合同投资额和到位资金",
    "indicators": "主要指标（资金、用地、奖励等）",
    "fai": "固定资产投资完成额和增速",
    "practices": "各单位工作举措与典型做法",
}


def ledger_discrepancies(ledger: pd.DataFrame) -> list[str]:
    """Each file and sheet whose rows or money do not reconcile: data rows = kept + quarantined,
    money as read = money used + money set aside. Empty when the ledger balances."""
    found = []
    for row in ledger.itertuples(index=False):
        where = f"{row.file}（{row.sheet}）" if row.sheet else str(row.file)
        if row.data_rows != row.kept + row.quarantined:
            found.append(f"台账不平：{where} 数据行{row.data_rows}行，采用{row.kept}行 + 隔离{row.quarantined}行")
        out = row.money_kept_wan + row.money_set_aside_wan
        if abs(row.money_raw_wan - out) > LEDGER_TOLERANCE_WAN:
            found.append(f"金额不平：{where} 原始{row.money_raw_wan:,.2f}万元，采用+未计入{out:,.2f}万元")
    return found


@dataclass
class Quality:
    """What the round's figures leave out. Each frame has a `unit` column."""

    missing_units: list[str]
    rejected: pd.DataFrame  # unit, file, sheet, status, note
    missing_columns: pd.DataFrame  # unit, file, sheet, return_kind, columns
    quarantined: pd.DataFrame  # unit, return_kind, rows, money_wan (duplicates excluded)
    set_aside: pd.DataFrame  # unit, return_kind, rows, money_wan: kept rows with a value left out (SET_ASIDE_CODES)
    kinds_by_unit: dict[str, set[str]] = field(default_factory=dict)  # kinds with kept rows, per unit
    header_map: pd.DataFrame | None = None  # 表头对照 (cleaning.HEADER_MAP_COLUMNS): which headers were not read
    ledger: pd.DataFrame | None = None  # the ledger: which sheets were read and kept nothing

    @property
    def complete(self) -> bool:
        return not (self.missing_units or len(self.rejected) or len(self.missing_columns)
                    or len(self.quarantined) or len(self.set_aside))

    @property
    def excluded_units(self) -> list[str]:
        units = [*self.missing_units]
        for frame in (self.rejected, self.missing_columns, self.quarantined, self.set_aside):
            units += frame["unit"].astype(str).tolist()
        return list(dict.fromkeys(units))  # each unit once, however many of its files were set aside

    @property
    def excluded_rows(self) -> int:
        return int(self.quarantined["rows"].sum())

    @property
    def excluded_wan(self) -> float:
        """The money left out: quarantined rows and set-aside amounts (a negative amount is no money left out)."""
        return float(self.quarantined["money_wan"].clip(lower=0).sum()
                     + self.set_aside["money_wan"].clip(lower=0).sum())

    def affected_kinds(self) -> list[str]:
        """The return kinds whose figures miss something: a missing unit concerns the kinds a unit of its
        type sends, a rejected file every kind (its kind is unknown)."""
        kinds = set(self.missing_columns["return_kind"]) | set(self.quarantined["return_kind"]) | set(
            self.set_aside["return_kind"])
        for unit in self.missing_units:
            kinds |= set(schemas.EXPECTED_KINDS[schemas.unit_kind(unit)])
        if len(self.rejected):
            kinds |= set(KIND_FIGURES)
        return [k for k in KIND_FIGURES if k in kinds]


def assess(ledger: pd.DataFrame, problems: pd.DataFrame, quarantine: pd.DataFrame,
           tables: dict[str, pd.DataFrame], units, header_map: pd.DataFrame | None = None) -> Quality:
    """Gather what the figures leave out (see the module docstring)."""
    received = set(ledger.loc[ledger["status"].fillna("") != "", "unit"].astype(str))
    missing = [u for u in units if u not in received]
    return Quality(
        missing_units=missing,
        rejected=_rejected(ledger, problems),
        missing_columns=_missing_columns(problems, ledger),
        quarantined=_quarantined(quarantine),
        set_aside=_set_aside(tables, problems),
        kinds_by_unit={u: {k for k, t in tables.items() if (t["unit"].astype(str) == u).any()} for u in units},
        header_map=header_map,
        ledger=ledger,
    )


def load_quality(processed_dir: Path, units) -> Quality:
    """assess() on what step 1 left in data/processed/<round>/ (ledger, problems, quarantine, clean tables)."""
    return assess(artifacts.load_ledger(processed_dir), artifacts.load_problems(processed_dir),
                  artifacts.load_quarantine(processed_dir), artifacts.load_clean_tables(processed_dir), units,
                  artifacts.load_header_map(processed_dir))


def _rejected(ledger: pd.DataFrame, problems: pd.DataFrame) -> pd.DataFrame:
    """Files and sheets that were not read, and files none of whose sheets is a return."""
    columns = ["unit", "file", "sheet", "status", "note"]
    unread = ledger[ledger["status"].fillna("").isin(REJECTED_STATUSES)]
    not_a_return = set(problems.loc[problems["code"] == "no_return_in_file", "file"])
    no_return = (ledger[ledger["file"].isin(not_a_return)].drop_duplicates("file")
                 .assign(sheet="", status="没有可识别的报表", note="文件中没有可识别的表头"))
    rejected = pd.concat([unread[columns], no_return[columns]], ignore_index=True)
    return rejected.fillna({"sheet": "", "note": ""})  # a file-level row has no sheet (empty in ledger.csv)


def _missing_columns(problems: pd.DataFrame, ledger: pd.DataFrame) -> pd.DataFrame:
    kinds = {k.label: k.name for k in schemas.RETURN_KINDS.values()}
    kind_of = {(r.file, r.sheet): kinds.get(r.return_kind, "") for r in ledger.itertuples(index=False)}
    rows = problems[problems["code"] == "missing_column"]
    return pd.DataFrame(
        [{"unit": p.unit, "file": p.file, "sheet": p.sheet, "return_kind": kind_of.get((p.file, p.sheet), ""),
          "columns": p.column} for p in rows.itertuples(index=False)],
        columns=["unit", "file", "sheet", "return_kind", "columns"])


def _by_unit_and_kind(frame: pd.DataFrame, money: str) -> pd.DataFrame:
    columns = ["unit", "return_kind", "rows", "money_wan"]
    if frame.empty:
        return pd.DataFrame(columns=columns).astype({"rows": int, "money_wan": float})
    out = (frame.groupby(["unit", "return_kind"], sort=False)
           .agg(rows=("unit", "size"), money_wan=(money, "sum")).reset_index())
    return out[columns]


def _quarantined(quarantine: pd.DataFrame) -> pd.DataFrame:
    kinds = {k.label: k.name for k in schemas.RETURN_KINDS.values()}
    lost = quarantine[~quarantine.get("duplicate", pd.Series(False, index=quarantine.index)).astype(bool)]
    lost = lost.assign(return_kind=lost["return_kind"].map(lambda label: kinds.get(label, label)))
    return _by_unit_and_kind(lost, "money_wan")


def _set_aside(tables: dict[str, pd.DataFrame], problems: pd.DataFrame) -> pd.DataFrame:
    """Kept rows with an amount left out of the sums: set aside (known amount) or unreadable (unknown)."""
    flagged = problems[problems["code"].isin(SET_ASIDE_CODES) & problems["row"].notna()]
    keys = set(zip(flagged["file"], flagged["sheet"], flagged["row"].astype("Int64")))
    frames = []
    for kind, table in tables.items():
        if table.empty or "set_aside_wan" not in table:
            continue
        hit = [(f, s, r) in keys or a > 0 for f, s, r, a in
               zip(table["file"], table["sheet"], table["row"], table["set_aside_wan"].fillna(0.0))]
        frames.append(table.loc[hit, ["unit", "set_aside_wan"]].assign(return_kind=kind))
    if not frames:
        return _by_unit_and_kind(pd.DataFrame(), "set_aside_wan")
    return _by_unit_and_kind(pd.concat(frames, ignore_index=True), "set_aside_wan")


def quality_values(q: Quality) -> dict:
    """The data_quality.* keys of indicators.json."""
    return {
        "data_quality.complete": q.complete,
        "data_quality.excluded_units": q.excluded_units,
        "data_quality.excluded_rows": q.excluded_rows,
        "data_quality.excluded_wan": q.excluded_wan,
        "data_quality.missing_units": list(q.missing_units),
        "data_quality.rejected_files": int(len(q.rejected)),
        "data_quality.affected": [KIND_FIGURES[k] for k in q.affected_kinds()],
    }


def unit_status(q: Quality, unit: str, kind: str) -> str:
    """How a unit's data of one kind stands: 未报送, 报表未采用 (nothing of it used), 部分数据未计入, or ''."""
    if unit in q.missing_units:
        return "未报送" if kind in schemas.EXPECTED_KINDS[schemas.unit_kind(unit)] else ""
    has_rows = kind in q.kinds_by_unit.get(unit, set())
    troubled = (unit in set(q.rejected["unit"].astype(str))
                or ((q.missing_columns["unit"] == unit) & (q.missing_columns["return_kind"] == kind)).any()
                or ((q.quarantined["unit"] == unit) & (q.quarantined["return_kind"] == kind)).any()
                or ((q.set_aside["unit"] == unit) & (q.set_aside["return_kind"] == kind)).any())
    if troubled and not has_rows:
        return "报表未采用"
    return "部分数据未计入" if troubled else ""


def caveat(q: Quality, kind: str, units) -> str:
    """The words a headline figure of `kind` carries when it leaves data out,
    e.g. “（不含石嘴山市报表；吴忠市部分数据未计入）”."""
    status = {u: unit_status(q, u, kind) for u in units}
    whole = [u for u, s in status.items() if s in ("未报送", "报表未采用")]
    part = [u for u, s in status.items() if s == "部分数据未计入"]
    pieces = []
    if whole:
        pieces.append(f"不含{'、'.join(whole)}报表")
    if part:
        pieces.append(f"{'、'.join(part)}部分数据未计入")
    return f"（{'；'.join(pieces)}）" if pieces else ""


def _yi(wan: float) -> str:
    return f"{wan / 10_000:.2f}亿元"


def findings(q: Quality) -> list[str]:
    """One Chinese sentence per thing the figures leave out, naming the units, rows and amounts."""
    lines = []
    if q.missing_units:
        lines.append(f"未报送：{'、'.join(q.missing_units)}（其数据全部未计入）")
    for r in q.rejected.itertuples(index=False):
        where = f"{r.file}" + (f"（{r.sheet}）" if r.sheet else "")
        lines.append(f"{r.unit}：{where}未能采用（{r.status}：{r.note}）")
    for r in q.missing_columns.itertuples(index=False):
        label = schemas.RETURN_KINDS[r.return_kind].label if r.return_kind in schemas.RETURN_KINDS else "报表"
        lines.append(f"{r.unit}：{r.file}（{r.sheet}）{label}缺少必填列“{r.columns}”，该列数据未计入")
    for r in q.quarantined.itertuples(index=False):
        lines.append(f"{r.unit}：{r.rows}行{_kind_label(r.return_kind)}数据无法统计，已隔离（涉及金额{_yi(r.money_wan)}）")
    for r in q.set_aside.itertuples(index=False):
        amount = f"，未计入的金额{_yi(r.money_wan)}" if r.money_wan > 0 else ""
        lines.append(f"{r.unit}：{r.rows}行{_kind_label(r.return_kind)}有无法识别或存疑的取值（金额、开工情况、日期等），"
                     f"这些值未计入相应的合计和比率{amount}")
    return lines


def _kind_label(kind: str) -> str:
    return schemas.RETURN_KINDS[kind].label if kind in schemas.RETURN_KINDS else ""


def warning_lines(q: Quality) -> list[str]:
    """The warning a run's console output ends with when the figures leave something out; [] when complete."""
    if q.complete:
        return []
    lines = ["注意：本轮数据不完整，报告中的相关数字未包含以下数据（详见报告首页提示框和附录一）："]
    lines += [f"  {line}" for line in findings(q)]
    lines.append(f"  受影响的数字：{'；'.join(KIND_FIGURES[k] for k in q.affected_kinds())}。")
    return lines
