"""Text from returns never executes: every workbook the pipeline writes keeps formula-like text as text."""
import openpyxl
import pytest
from office import project_row, project_sheet, write_round, write_xlsx

from pipeline import paths as config
from pipeline import rounds, schemas
from pipeline.indicators import findings
from pipeline.ingest import cleaning, feedback, return_template

HOSTILE = ["=HYPERLINK(\"http://example.invalid\",\"点我\")", "+1+1", "-2+3", "@SUM(A1:A2)", "=cmd|' /C calc'!A0"]


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    raw = write_round(root / "data" / "raw" / "r", ["银川市"])
    rows = [project_row(i, f"H{i}", name, started="否", start=None) for i, name in enumerate(HOSTILE, start=1)]
    rows.append(project_row(9, "H9", "坏金额", done=HOSTILE[3]))  # a bad cell, its raw text sent back
    rows.append(project_row(10, "H1", HOSTILE[3]))  # a duplicate of H1: quarantined with its hostile text
    hostile_header = [["序号", "项目名称", "批次", "年度计划投资", "累计完成投资", "是否开工", HOSTILE[1]],
                      [1, "表头项目", "第一批", 10, 5, "是", "x"]]  # an unknown header, shown in 表头对照
    # The second sheet's name is formula-like too: 台账.xlsx (one row per file and sheet, no project names) carries it.
    path = write_xlsx(raw / "银川市.xlsx", {"S": project_sheet(rows)[0], HOSTILE[2]: hostile_header})
    book = openpyxl.load_workbook(path)
    for row in book["S"].iter_rows():
        for cell in row:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # typed in as text (Excel: a leading apostrophe), not a formula
    book.save(path)
    round_ = rounds.load_round("r", root)
    result = cleaning.clean_round(round_, schemas.load_aliases(), echo=lambda *_: None)
    out = root / "out"
    paths = cleaning.save_clean(result, out)
    paths.append(feedback.write_feedback(result, round_, out))
    paths.append(findings.write_supervision_list(findings.track_list(result.tables["projects"], round_), round_, out))
    paths += sorted((out / feedback.UNIT_FEEDBACK_DIR).glob("*.xlsx"))  # the per-unit lists
    cleaning.save_clean(result, config.processed_round_dir("r", root))
    paths += return_template.write_templates("r", root=root)  # pre-filled with the hostile names
    return [p for p in paths if p.suffix == ".xlsx"]


def test_every_written_workbook_is_checked(written):
    assert [p.name for p in written if p.name == "银川市.xlsx"] == ["银川市.xlsx"] * 2  # 退回修改/ and 填报模板/
    assert {p.name for p in written} == {"清洗数据.xlsx", "表头对照.xlsx", "隔离行.xlsx", "台账.xlsx",
                                         "退回修改清单.xlsx", "督办清单.xlsx", "银川市.xlsx"}


def test_formula_like_text_is_stored_as_text_everywhere(written):
    for path in written:
        book = openpyxl.load_workbook(path)  # formulas would come back as '=...' with data_type 'f'
        cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
        assert not [c.coordinate for c in cells if c.data_type == "f"], path.name
        found = [c.value for c in cells if any(h in c.value for h in HOSTILE)]
        assert found, f"{path.name} should carry the hostile names as plain text"
