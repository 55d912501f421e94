"""Units named as offices name them, and only a unit's own mistakes in its list: real files, hand-built.

- a place before an office makes the office that place's (填报单位 line, folder, file name, title);
- a provincial department only when no place precedes it, in its usual long and short forms;
- round.yml's `units` spelt differently from the returns: the file is still the unit's, the analyst is asked;
- a loose match (吴忠 for 吴忠市) is told to the analyst once;
- byte-identical copies are read once, lock files and desktop leftovers skipped: notices for the analyst only.
"""
from __future__ import annotations

import shutil

import openpyxl
import pytest
from office import project_row, project_sheet, write_csv, write_round, write_xls, write_xlsx

from pipeline import paths as config
from pipeline import rounds, schemas
from pipeline.ingest import cleaning, feedback, units
from pipeline.ingest.problems import ANALYST_CODES

UNITS = ["银川市", "石嘴山市", "吴忠市", "宁东基地", "发展改革委", "住房城乡建设厅", "交通运输厅"]
HEADER = ["序号", "项目名称", "批次", "年度计划投资", "累计完成投资", "是否开工"]


def clean(tmp_path, units_=UNITS):
    shutil.copy(config.HEADER_ALIASES_FILE, tmp_path / "data" / "header_aliases.csv")
    round_ = rounds.load_round("r", tmp_path)
    result = cleaning.clean_round(round_, schemas.load_aliases(tmp_path / "data" / "header_aliases.csv"),
                                  echo=lambda *_: None, processes=1)
    return result, round_


def raw(tmp_path, units_=UNITS):
    return write_round(tmp_path / "data" / "raw" / "r", units_)


def returns_of(result) -> dict[str, str]:
    """file -> the unit its rows went to."""
    projects = result.tables["projects"]
    return dict(zip(projects["file"], projects["unit"]))


def footer_file(folder, name: str, reporter: str, project: str):
    rows = [HEADER, [1, project, "第一批", 100, 40, "是"], [], [f"填报单位：{reporter}    填报人：张三"]]
    return write_xlsx(folder / name, {"S": rows})


@pytest.mark.parametrize("reporter, unit", [
    ("石嘴山市发展改革委", "石嘴山市"),
    ("银川市发改委", "银川市"),
    ("吴忠市住建局", "吴忠市"),
    ("宁东基地管委会经发局", "宁东基地"),
    ("自治区发展改革委", "发展改革委"),
    ("区发改委", "发展改革委"),
    ("宁夏回族自治区发展和改革委员会", "发展改革委"),
    ("自治区住房和城乡建设厅", "住房城乡建设厅"),
    ("住建厅", "住房城乡建设厅"),
    ("交通厅", "交通运输厅"),
])
def test_the_reporter_line_names_the_place_before_the_office(tmp_path, reporter, unit):
    footer_file(raw(tmp_path), "附件1.xlsx", reporter, "甲")
    result, _ = clean(tmp_path)
    assert returns_of(result) == {"附件1.xlsx": unit}
    assert "unknown_unit" not in set(result.problems["code"])


def test_the_same_rule_reads_folder_file_name_and_title(tmp_path):
    folder = raw(tmp_path)
    write_csv(folder / "石嘴山市发改委" / "附件.csv", [HEADER, [1, "甲", "第一批", 100, 40, "是"]])
    write_xls(folder / "吴忠市住房和城乡建设局报表.xls", {"S": [HEADER, [1, "乙", "第一批", 100, 40, "是"]]})
    write_xlsx(folder / "附件3.xlsx", {"S": [["宁东基地管委会经济发展局2021年重大项目进展情况表"], HEADER,
                                            [1, "丙", "第一批", 100, 40, "是"]]})
    write_xlsx(folder / "附件4.xlsx", {"S": [["自治区交通厅2021年重大项目进展情况表"], HEADER,
                                            [1, "丁", "第一批", 100, 40, "是"]]})
    result, round_ = clean(tmp_path)
    assert returns_of(result) == {"石嘴山市发改委/附件.csv": "石嘴山市", "吴忠市住房和城乡建设局报表.xls": "吴忠市",
                                  "附件3.xlsx": "宁东基地", "附件4.xlsx": "交通运输厅"}
    summary = feedback.unit_summary(result, round_).set_index("单位")
    assert summary.loc["发展改革委", "报送情况"] == "未报送" and summary.loc["石嘴山市", "报送情况"] == "已报送"


@pytest.mark.parametrize("where", ["footer", "folder", "title"])
def test_a_unit_round_yml_spells_differently_is_the_files_unit_and_a_question_to_the_analyst(tmp_path, where):
    listed = ["银川市", "石咀山市", "发展改革委"]
    folder = raw(tmp_path, listed)
    if where == "footer":
        footer_file(folder, "附件1.xlsx", "石嘴山市发展改革委", "甲")
    elif where == "folder":
        write_csv(folder / "石嘴山市" / "附件1.csv", [HEADER, [1, "甲", "第一批", 100, 40, "是"]])
    else:
        write_xlsx(folder / "附件1.xlsx", {"S": [["石嘴山市2021年重大项目进展情况表"], HEADER,
                                                [1, "甲", "第一批", 100, 40, "是"]]})
    footer_file(folder / "银川市", "附件.xlsx", "银川市", "乙")
    result, round_ = clean(tmp_path)
    assert set(returns_of(result).values()) == {"石咀山市", "银川市"}
    assert result.missing_units == ["发展改革委"]
    asked = result.problems[result.problems["code"] == units.UNIT_NOT_IN_ROUND]
    assert asked["problem"].tolist() == ["报表中的“石嘴山市”不在 units 中，是否为“石咀山市”？"]
    console = feedback.run_summary(result)
    assert "报表中的“石嘴山市”不在 units 中，是否为“石咀山市”？请核对 round.yml" in console
    out = tmp_path / "outputs" / "r"
    feedback.write_feedback(result, round_, out)
    lists = sorted(p.name for p in (out / "退回修改").iterdir()) if (out / "退回修改").exists() else []
    assert "石咀山市.xlsx" not in lists and "石嘴山市.xlsx" not in lists
    for path in (out / "退回修改").glob("*.xlsx"):
        cells = [c for row in openpyxl.load_workbook(path)["问题清单"].iter_rows(values_only=True) for c in row]
        assert not any("round.yml" in str(c) for c in cells)


def test_a_loose_match_is_told_to_the_analyst_once(tmp_path):
    folder = raw(tmp_path)
    footer_file(folder, "附件1.xlsx", "吴忠", "甲")
    footer_file(folder, "附件2.xlsx", "吴忠", "乙")
    write_csv(folder / "吴忠" / "附件3.csv", [HEADER, [1, "丙", "第一批", 100, 40, "是"]])
    result, round_ = clean(tmp_path)
    assert set(returns_of(result).values()) == {"吴忠市"}
    loose = result.problems[result.problems["code"] == units.LOOSE_UNIT]
    assert loose["problem"].tolist() == ["报表中的“吴忠”按“吴忠市”读取"]
    assert feedback.unit_problems(result, "吴忠市").empty


def identical(folder, first: str, copy: str, kind: str = "xlsx"):
    grid, merges = project_sheet([project_row(i, f"C{i}", f"项目{i}") for i in range(1, 11)],
                                 footer="填报单位：银川市发展改革委")
    if kind == "xlsx":
        write_xlsx(folder / first, {"重大项目": grid}, {"重大项目": merges})
    else:
        write_csv(folder / first, [HEADER, *[[i, f"项目{i}", "第一批", 100, 40, "是"] for i in range(1, 11)]])
    (folder / copy).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(folder / first, folder / copy)


@pytest.mark.parametrize("first, copy, kind", [
    ("银川市/重大项目.xlsx", "银川市/重大项目(1).xlsx", "xlsx"),
    ("银川市/重大项目.xlsx", "银川市/重大项目 - 副本.xlsx", "xlsx"),
    ("银川市/附件1.csv", "下载/银川市/附件1（1）.csv", "csv"),
])
def test_byte_identical_copies_are_read_once_and_told_to_the_analyst_only(tmp_path, first, copy, kind):
    folder = raw(tmp_path)
    identical(folder, first, copy, kind)
    result, round_ = clean(tmp_path)
    assert len(result.tables["projects"]) == 10 and set(result.tables["projects"]["file"]) == {first}
    codes = set(result.problems["code"])
    assert not any("duplicate" in c for c in codes), codes
    notice = result.problems[result.problems["code"] == "identical_file"]
    assert notice["problem"].tolist() == [f"“{copy}”与“{first}”内容完全相同，只读取一份"]
    assert feedback.unit_problems(result, "银川市").empty
    summary = feedback.unit_summary(result, round_).set_index("单位")
    assert summary.loc["银川市", "提示"] == 0 and summary.loc["银川市", "需修改（错误）"] == 0
    assert f"“{copy}”与“{first}”内容完全相同，只读取一份" in feedback.run_summary(result)


def test_files_with_the_same_name_but_other_content_are_both_read(tmp_path):
    folder = raw(tmp_path)
    footer_file(folder / "银川市", "重大项目.xlsx", "银川市", "甲")
    footer_file(folder / "银川市", "重大项目(1).xlsx", "银川市", "乙")
    result, _ = clean(tmp_path)
    assert sorted(result.tables["projects"]["project_name"]) == ["乙", "甲"]
    assert "identical_file" not in set(result.problems["code"])


def test_lock_files_and_desktop_leftovers_are_skipped_and_noted_for_the_analyst_only(tmp_path):
    folder = raw(tmp_path)
    footer_file(folder / "银川市", "重大项目.xlsx", "银川市", "甲")
    (folder / "银川市" / "~$重大项目.xlsx").write_bytes(b"\x05zhang" + bytes(160))
    (folder / "银川市" / "Thumbs.db").write_bytes(b"\xd0\xcf\x11\xe0" + bytes(508))
    (folder / "吴忠市").mkdir()
    (folder / "吴忠市" / "desktop.ini").write_text("[.ShellClassInfo]\nIconResource=C:\\x.ico\n", encoding="utf-16")
    (folder / ".~lock.附件1.xlsx#").write_text("张三,DESKTOP-1,DESKTOP-1,01.12.2026 10:00,file:///C:/;",
                                                encoding="utf-8")
    result, round_ = clean(tmp_path)
    notes = result.problems[result.problems["code"].isin(ANALYST_CODES)]
    assert sorted(notes["file"]) == sorted([".~lock.附件1.xlsx#", "吴忠市/desktop.ini", "银川市/Thumbs.db",
                                            "银川市/~$重大项目.xlsx"])
    assert "not_a_table" not in set(result.problems["code"])
    assert "银川市" not in feedback.units_with_list(result) and feedback.unit_problems(result, "银川市").empty
    summary = feedback.unit_summary(result, round_).set_index("单位")
    assert summary.loc["银川市", "提示"] == 0 and summary.loc["吴忠市", "报送情况"] == "未报送"
    console = feedback.run_summary(result)
    assert "给分析人员的提示（不发给单位）" in console and "银川市/Thumbs.db" in console


# Counties, districts and banners are places too: a county-level round (the published sets of 连南县, 惠东县, 武进区)
# has them as its units, and their offices write “某县发展和改革局”, “利通区住建局”, “阿拉善左旗发改委”.
COUNTY_UNITS = ["某县", "利通区", "阿拉善左旗", "发展改革委"]


@pytest.mark.parametrize("reporter, unit", [
    ("某县发展和改革局", "某县"),
    ("利通区住房和城乡建设局", "利通区"),
    ("阿拉善左旗发改委", "阿拉善左旗"),
    ("利通发改局", "利通区"),  # the district's core name without 区: a loose match
    ("自治区发展改革委", "发展改革委"),  # 自治区 ends in 区 but names no unit of the round
])
def test_counties_districts_and_banners_are_places_before_their_offices(tmp_path, reporter, unit):
    footer_file(raw(tmp_path, COUNTY_UNITS), "附件1.xlsx", reporter, "甲")
    result, _ = clean(tmp_path, COUNTY_UNITS)
    assert returns_of(result) == {"附件1.xlsx": unit}
    assert "unknown_unit" not in set(result.problems["code"])
    assert units.UNIT_NOT_IN_ROUND not in set(result.problems["code"])


def test_a_one_character_place_is_no_near_miss_of_another():
    """某县 and 另县 share only their ending: no question to the analyst about round.yml's spelling."""
    assert units.near_misses(["另县发展和改革局"], ["某县"]) == []
    assert units.match_unit("另县发展和改革局", ["某县"]) is None
