"""Writing workbooks for people: every xlsx the pipeline produces goes through here.

Text from returns is stored as text, never as a formula or a link: a cell that
begins with '=', '+', '-' or '@' stays a string (xlsxwriter's
strings_to_formulas / strings_to_urls off), so a hostile return cannot plant a
formula in the workbooks we send back to units.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

_MAX_WIDTH = 60


def write_workbook(path: Path, sheets: dict[str, pd.DataFrame], *, notes: dict[str, str] | None = None,
                   fills: dict[str, dict[str, dict[str, str]]] | None = None) -> Path:
    """Write each DataFrame to its own sheet, with a bold header, frozen first row and fitted widths.

    `notes` optionally puts one line of explanation above a sheet's table. `fills` optionally colours
    cells by their text: {sheet: {column header: {cell text: "#RRGGBB"}}} (e.g. 预警 红/黄/绿).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    options = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
    with pd.ExcelWriter(path, engine="xlsxwriter", engine_kwargs={"options": options}) as writer:
        book = writer.book
        book.set_properties({"created": dt.datetime(2000, 1, 1)})  # stable bytes for the same content
        header_fmt = book.add_format({"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#DDEBF7", "border": 1})
        note_fmt = book.add_format({"italic": True, "font_color": "#555555"})
        for name, frame in sheets.items():
            sheet_name = _sheet_name(name)
            note = (notes or {}).get(name)
            start = 1 if note else 0
            frame = _for_excel(frame)
            frame.to_excel(writer, sheet_name=sheet_name, index=False, startrow=start)
            ws = writer.sheets[sheet_name]
            if note:
                ws.write_string(0, 0, note, note_fmt)
            for col, label in enumerate(frame.columns):
                ws.write_string(start, col, str(label), header_fmt)
                ws.set_column(col, col, _width(label, frame.iloc[:, col]))
            _fill_cells(ws, book, frame, start, (fills or {}).get(name, {}))
            ws.freeze_panes(start + 1, 0)
            if len(frame.columns):
                ws.autofilter(start, 0, start + len(frame), len(frame.columns) - 1)
    return path


def _fill_cells(ws, book, frame: pd.DataFrame, start: int, by_column: dict[str, dict[str, str]]) -> None:
    """Rewrite the cells of the given columns whose text has a colour, as text with that background."""
    formats: dict[str, object] = {}
    for label, colours in by_column.items():
        if label not in frame.columns:
            continue
        col = list(frame.columns).index(label)
        for i, value in enumerate(frame[label]):
            colour = colours.get(value) if isinstance(value, str) else None
            if colour:
                fmt = formats.setdefault(colour, book.add_format({"bg_color": colour, "border": 1, "align": "center"}))
                ws.write_string(start + 1 + i, col, value, fmt)


def _for_excel(frame: pd.DataFrame) -> pd.DataFrame:
    """Dates as dates, missing values as empty cells, everything else unchanged."""
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].dt.date
        elif pd.api.types.is_bool_dtype(out[col]) or str(out[col].dtype) == "boolean":
            out[col] = out[col].map(lambda v: "" if pd.isna(v) else ("是" if v else "否"))
    return out.astype(object).where(out.notna(), None)


def _width(label: object, values: pd.Series) -> float:
    sample = [str(label)] + [str(v) for v in values.head(200) if v is not None]
    longest = max((sum(2 if ord(ch) > 0x2E80 else 1 for ch in s) for s in sample), default=8)
    return float(min(_MAX_WIDTH, max(6, longest + 2)))


def _sheet_name(name: str) -> str:
    bad = '[]:*?/\\'
    clean = "".join("_" if ch in bad else ch for ch in str(name))
    return clean[:31] or "Sheet"

