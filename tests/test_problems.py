"""The catalogue of problem kinds (pipeline/ingest/problems.csv) and the checks that write them agree: every
declared code is written somewhere, every code written is declared, and docs/problems.md is generated from it."""
from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from office import project_row, project_sheet, write_round, write_xls, write_xlsx

from pipeline import paths, rounds, schemas
from pipeline.ingest import cleaning, feedback, problems
from pipeline.ingest.problems import ERROR, HINT, Problem, UndeclaredProblem

PIPELINE = paths.PROJECT_ROOT / "pipeline"
DOC = paths.PROJECT_ROOT / "docs" / "problems.md"
# The code argument of each way a problem is written: Problem(...) and the checks' local problem(...) helpers.
CODE_ARGUMENT = {"Problem": 9, "problem": 6}
ROW_ACTIONS = {"QUARANTINE", "SET_ASIDE", "KEEP"}  # a row check's (column, text, fix, code, action)


def _constants(module: ast.Module) -> dict[str, ast.expr]:
    """Module-level names bound to an expression (`A = "x"`, `A, B = "x", "y"`)."""
    bound = {}
    for node in module.body:
        if not isinstance(node, ast.Assign):
            continue
        for target in node.targets:
            if isinstance(target, ast.Name):
                bound[target.id] = node.value
            elif isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
                bound.update({t.id: v for t, v in zip(target.elts, node.value.elts) if isinstance(t, ast.Name)})
    return bound


def _codes(node: ast.expr, constants: dict[str, ast.expr]) -> tuple[set[str], set[str]]:
    """(codes, prefixes of codes made at run time) an expression at an emission site can give."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}, set()
    if isinstance(node, ast.IfExp):
        a, b = _codes(node.body, constants), _codes(node.orelse, constants)
        return a[0] | b[0], a[1] | b[1]
    if isinstance(node, ast.Name) and node.id in constants:
        return _codes(constants[node.id], constants)
    if isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
        return set(), {node.values[0].value}
    return set(), set()  # a parameter passed on (the helper's `code`): its callers are scanned


def emitted(root: Path = PIPELINE) -> tuple[set[str], set[str], int]:
    """Scan pipeline/ (developer tools aside) for emission sites: (codes, prefixes made at run time, sites)."""
    codes, prefixes, sites = set(), set(), 0
    for path in sorted(root.rglob("*.py")):
        if "devtools" in path.parts:
            continue
        module = ast.parse(path.read_text(encoding="utf-8"))
        constants = _constants(module)
        for node in ast.walk(module):
            found = None
            if isinstance(node, ast.Call):
                func = node.func
                name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
                if name in CODE_ARGUMENT:
                    keyword = next((k.value for k in node.keywords if k.arg == "code"), None)
                    index = CODE_ARGUMENT[name]
                    found = node.args[index] if len(node.args) > index else keyword
            elif (isinstance(node, ast.Tuple) and len(node.elts) == 5 and isinstance(node.elts[4], ast.Name)
                  and node.elts[4].id in ROW_ACTIONS):
                found = node.elts[3]
            if found is not None:
                sites += 1
                more, made = _codes(found, constants)
                codes |= more
                prefixes |= made
    return codes, prefixes, sites


def made_at_run_time(prefixes: set[str]) -> set[str]:
    """The codes a prefix stands for: bad_<type> for each value type a column can have (the cell parsers')."""
    types = {schemas.TEXT, schemas.MONEY, schemas.NUMBER, schemas.BOOL, schemas.DATE, schemas.MONTH, schemas.CHOICE,
             schemas.SEQ}
    unknown = prefixes - {"bad_"}
    assert not unknown, f"codes made at run time from {unknown}: teach this test what they stand for"
    return {f"bad_{t}" for t in types} if prefixes else set()


def test_every_declared_code_is_written_somewhere_and_every_written_code_is_declared():
    codes, prefixes, sites = emitted()
    assert sites >= 30, "the scan found too few emission sites: has the way problems are written changed?"
    written = codes | made_at_run_time(prefixes)
    declared = set(problems.KINDS)
    assert not written - declared, f"written but not declared in problems.csv: {sorted(written - declared)}"
    assert not declared - written, f"declared in problems.csv but never written: {sorted(declared - written)}"


def test_the_scan_sees_a_planted_code(tmp_path):
    """The scan is not blind: an undeclared code at a new emission site is seen, in each way codes are written."""
    (tmp_path / "planted.py").write_text(
        'PLANTED = "planted_constant"\n'
        'def f(problem, lock):\n'
        '    problem(1, "", "", "t", "f", "错误", "planted_literal")\n'
        '    problem(1, "", "", "t", "f", "错误", "planted_a" if lock else PLANTED)\n'
        '    return [("x", "t", "f", "planted_check", KEEP)]\n', encoding="utf-8")
    codes, prefixes, sites = emitted(tmp_path)
    assert codes == {"planted_literal", "planted_a", "planted_constant", "planted_check"}
    assert sites == 3 and not prefixes


def test_a_problem_with_an_undeclared_code_or_severity_cannot_be_made():
    with pytest.raises(UndeclaredProblem, match="not_a_code"):
        Problem("甲市", "a.xlsx", "S", 3, "总投资", "x", "t", "f", ERROR, "not_a_code")
    with pytest.raises(UndeclaredProblem, match="提示"):
        Problem("甲市", "a.xlsx", "S", 3, "总投资", "x", "t", "f", HINT, "bad_money")
    assert Problem("甲市", "a.xlsx", "S", 3, "项目名称", "x", "t", "f", HINT, "duplicate").severity == HINT


def test_the_lists_of_codes_are_read_from_the_catalogue():
    kinds = problems.KINDS
    assert set(problems.SET_ASIDE_CODES) == {c for c, k in kinds.items() if k.set_aside}
    assert "bad_money" in problems.SET_ASIDE_CODES and "duplicate" not in problems.SET_ASIDE_CODES
    assert problems.KEEPABLE == {"negative_amount", "completed_over_total", "plan_over_total", "date_after_cutoff",
                                 "total_mismatch", "implausible_unit"}
    assert problems.ANALYST_CODES == {"lock_file", "desk_leftover", "identical_file", "unit_not_in_round",
                                      "loose_unit", "correction_not_applied", "cleaner_failed"}
    # an analyst's notice is a 提示, except the program failing on a file: a whole file went unused
    assert {c for c in problems.ANALYST_CODES if kinds[c].severities != (HINT,)} == {"cleaner_failed"}
    assert problems.REPORT_LABELS["bad_date"] == "日期无法识别或不存在"


def test_a_slip_in_the_catalogue_is_named(tmp_path):
    good = problems.CATALOGUE_FILE.read_text(encoding="utf-8")
    header, first = good.splitlines()[:2]
    for bad, said in ((first.replace(",错误,", ",严重,", 1), "severity"),
                      (first.replace(",单元格,", ",某处,", 1), "scope"),
                      (f"{first}\n{first}", "twice")):
        path = tmp_path / "problems.csv"
        path.write_text(f"{header}\n{bad}\n", encoding="utf-8")
        with pytest.raises(ValueError, match=said):
            problems.load(path)


def test_docs_problems_md_is_generated_from_the_catalogue():
    page = DOC.read_text(encoding="utf-8")
    assert problems.with_generated(page) == page, "docs/problems.md is out of date: run make docs"
    for kind in problems.KINDS.values():
        assert f"| `{kind.code}` | {kind.label} |" in page


# --------------------------------------------------------------------------- on hand-built returns

# (project code, column, what is wrong with it, the code expected): one mistake per row of a hand-built return.
MISTAKES = [
    ("P1", "completed", dict(done="约500"), "bad_money"),
    ("P2", "start_date", dict(start="2021-02-30"), "bad_date"),
    ("P3", "started", dict(started="待定"), "bad_bool"),
    ("P4", "completed", dict(done=-5), "negative_amount"),
    ("P5", "completed", dict(done=2000), "completed_over_total"),
    ("P6", "start_date", dict(start=dt.date(2022, 1, 5)), "date_after_cutoff"),
]


def _hand_built_round(root: Path, write) -> None:
    """One unit's return with the mistakes above and a twice-reported row, a lock file beside it, a text file
    among the returns, and a second unit that sent nothing."""
    raw = root / "data" / "raw" / "r"
    write_round(raw, ["银川市", "交通运输厅"])
    rows = [project_row(i, code, f"项目{i}", **change) for i, (code, _, change, _) in enumerate(MISTAKES, start=1)]
    rows.append(project_row(len(rows) + 1, "P1", "项目1"))
    grid, merges = project_sheet(rows)
    write(raw / "银川市" / "附件1", grid, merges)
    (raw / "银川市" / "~$附件1.xlsx").write_bytes(b"\x00" * 162)
    (raw / "银川市" / "说明.txt").write_text("请查收", encoding="utf-8")


def _xlsx(stem: Path, grid, merges):
    return write_xlsx(stem.with_suffix(".xlsx"), {"第一批": grid}, {"第一批": merges})


def _xls(stem: Path, grid, merges):
    return write_xls(stem.with_suffix(".xls"), {"第一批": grid}, {"第一批": merges})


@pytest.mark.parametrize("write", [_xlsx, _xls], ids=["xlsx", "xls"])
def test_what_the_catalogue_says_of_a_kind_is_what_cleaning_does(tmp_path, write):
    _hand_built_round(tmp_path, write)
    result = cleaning.clean_round(rounds.load_round("r", tmp_path), schemas.load_aliases(), echo=lambda *_: None)
    found = result.problems
    assert set(found["code"]) <= set(problems.KINDS)
    for code, severity in zip(found["code"], found["severity"]):
        assert severity in problems.KINDS[code].severities
    kept = result.tables["projects"].set_index("project_code")
    for project, column, _, code in MISTAKES:
        assert code in set(found["code"]), code
        left_out = pd.isna(kept.loc[project, column])
        assert left_out == problems.KINDS[code].set_aside, f"{code}: set_aside in problems.csv, not what cleaning did"
    codes = set(found["code"])
    assert {"duplicate", "lock_file", "not_a_table", "missing_return"} <= codes
    own = set(feedback.units_own(found)["code"])
    assert "lock_file" not in own and "not_a_table" in own, "analyst in problems.csv decides whose list it is"
    summary = feedback.run_summary(result)
    assert "说明.txt" in summary and "不是 Excel 或 CSV 文件" in summary  # summary=1: named in the run's summary
