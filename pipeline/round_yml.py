"""The slips people make writing round.yml, said where they are and how to put them right.

``rounds.load_round`` calls these when round.yml does not parse or a value is not what it should be: a
full-width colon (“as_of：”) or comma, a Tab in the indentation, a date written another way
(2021/11/30, 2021.11.30, 2021年11月30日), a list of units written with 、; and a round folder that does
not exist (the rounds that do, the closest first).
"""
from __future__ import annotations

import difflib
import re
from pathlib import Path

# A date written the way people write it elsewhere: 2021/11/30, 2021.11.30, 2021年11月30日, 2021_11_30.
OTHER_DATE = re.compile(r"^\s*(\d{4})\s*[/.年_]\s*(\d{1,2})\s*[/.月_]\s*(\d{1,2})\s*日?\s*$")
LIST_SEPARATORS = ("、", "，", "；")


def slips(text: str) -> list[str]:
    """Hints for the slips that make round.yml unreadable, each with its line: full-width colons and commas, Tabs."""
    hints = []
    for n, line in enumerate(text.splitlines(), 1):
        code = line.split("#", 1)[0]
        lead = code[: len(code) - len(code.lstrip())]
        if "\t" in lead:
            hints.append(f"第{n}行用 Tab 缩进：round.yml 只认空格，请把 Tab 换成两个空格")
        if re.match(r"\s*-?\s*[A-Za-z_]+\s*：", code):
            hints.append(f"第{n}行的冒号是全角“：”：请改为半角冒号“:”，冒号后空一格")
        if re.search(r"\[[^\]]*[，、]", code):
            hints.append(f"第{n}行方括号中用了“，”或“、”分隔：请改用半角逗号“,”，如 [银川市, 吴忠市]")
    return hints


def key_line(text: str, key: str) -> int | None:
    """The line (1-based) where a key of round.yml is set, or None."""
    for n, line in enumerate(text.splitlines(), 1):
        if re.match(rf"\s*{re.escape(key)}\s*[:：]", line):
            return n
    return None


def syntax_message(path: Path, text: str, line: int | None, column: int | None) -> str:
    """round.yml does not parse: where (line and column), and the slips found, or what to check."""
    where = f"第{line}行第{column}列" if line and column else (f"第{line}行" if line else "")
    found = slips(text)
    hint = "；".join(found) if found else "请检查这一行的缩进（只用空格）、冒号（半角“:”后空一格）和引号"
    return f"{path} {where}格式有误，无法解析：{hint}。保存时请用 UTF-8 编码。"


def date_hint(value: object) -> str:
    """For a date written another way: “写的是“2021/11/30”，请写成 2021-11-30”; "" otherwise."""
    match = OTHER_DATE.match(str(value)) if isinstance(value, str) else None
    if not match:
        return ""
    y, m, d = (int(g) for g in match.groups())
    return f"写的是“{value}”，请写成 {y:04d}-{m:02d}-{d:02d}（年-月-日，用半角“-”连接）"


def units_hint(units: object) -> str:
    """For units written as one text with 、 or ，: how to write the list; "" otherwise."""
    texts = [units] if isinstance(units, str) else units if isinstance(units, list) else []
    if not any(isinstance(u, str) and any(s in u for s in LIST_SEPARATORS) for u in texts):
        return ""
    return ("单位之间用了“、”或“，”，round.yml 会把它们读成一个单位：请写成 [银川市, 吴忠市]（半角逗号），"
            "或每行一个“  - 银川市”")


def with_line(message: str, text: str, keys) -> str:
    """A message about a key of round.yml, with the line where the key is set: “round.yml（第3行）中 as_of …”."""
    for key in sorted(keys, key=len, reverse=True):
        if re.search(rf"(?<![A-Za-z_]){re.escape(key)}(?![A-Za-z_])", message):
            line = key_line(text, key)
            if line:
                return message.replace("round.yml", f"round.yml（第{line}行）", 1)
            break
    return message


def missing_round_message(round_id: str, raw_root: Path) -> str:
    """No folder for the round: the rounds there are, the closest to what was typed first."""
    rounds = sorted(p.name for p in Path(raw_root).iterdir() if p.is_dir() and (p / "round.yml").is_file()) \
        if Path(raw_root).is_dir() else []
    text = f"找不到轮次文件夹 data/raw/{round_id}/：请把本轮报表放在 data/raw/{round_id}/ 下。"
    if not rounds:
        return text
    close = difflib.get_close_matches(round_id, rounds, n=1, cutoff=0.5)
    text += f"现有的轮次：{'、'.join(rounds)}。"
    return text + (f"是不是要运行 {close[0]}？例如 make report ROUND={close[0]}" if close else "")
