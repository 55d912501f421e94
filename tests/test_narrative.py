"""典型做法 sent as Word documents (.docx, and .doc/.wps through LibreOffice), read through cleaning."""
from __future__ import annotations

from pathlib import Path

import docx
import layouts
import pytest
from office import write_round

from pipeline import rounds, schemas
from pipeline.ingest import cleaning, narrative


def clean(root: Path, units=("吴忠市", "银川市")):
    write_round(root / "data" / "raw" / "r", list(units), as_of="2022-08-31")
    return cleaning.clean_round(rounds.load_round("r", root), schemas.load_aliases(), echo=lambda *_: None)


def raw(root: Path) -> Path:
    return root / "data" / "raw" / "r"


def with_headings(path: Path) -> Path:
    """Headings in Word's heading styles, a bullet list, numbered items run together in one paragraph."""
    d = docx.Document()
    d.add_paragraph("吴忠市2022年工作举措与典型做法")
    d.add_heading("一、压实责任，抓项目的意识逐步提高", level=1)
    d.add_paragraph("市委市政府每月召开项目推进会，逐一研究解决问题。")
    d.add_paragraph("建立“一个项目、一名领导、一套班子”包抓机制。", style="List Bullet")
    d.add_heading("二、强化要素保障", level=1)
    d.add_paragraph("1．新增建设用地3000亩；2．争取专项债券12亿元。")
    d.add_paragraph("（三）十大工程项目稳步推进")  # a heading typed as a plain paragraph
    d.add_paragraph("黄河黑山峡生态保护工程前期工作取得实质性进展。")
    path.parent.mkdir(parents=True, exist_ok=True)
    d.save(str(path))
    return path


EXPECTED = [("抓项目的意识", "市委市政府每月召开项目推进会，逐一研究解决问题。"),
            ("抓项目的意识", "建立“一个项目、一名领导、一套班子”包抓机制。"),
            ("项目要素保障", "新增建设用地3000亩；"), ("项目要素保障", "争取专项债券12亿元。"),
            ("十大工程项目", "黄河黑山峡生态保护工程前期工作取得实质性进展。")]


def practices_of(result) -> list[tuple[str, str]]:
    table = result.tables["practices"]
    return list(zip(table["section"], table["content"]))


def test_a_docx_narrative_is_read_item_by_item_under_its_sections(tmp_path):
    with_headings(raw(tmp_path) / "吴忠市" / "典型做法.docx")
    result = clean(tmp_path)
    assert practices_of(result) == EXPECTED
    assert set(result.tables["practices"]["unit"]) == {"吴忠市"}
    assert not (result.problems["code"] == "not_a_table").any()
    assert result.quarantine.empty


def test_without_headings_each_item_takes_the_section_its_words_name(tmp_path):
    d = docx.Document()
    for text in ("谋划储备项目126个，总投资860亿元。", "开展“项目服务月”活动，推进机制不断完善。", "用地保障到位。"):
        d.add_paragraph(text)
    (raw(tmp_path) / "银川市").mkdir(parents=True)
    d.save(str(raw(tmp_path) / "银川市" / "典型做法.docx"))
    result = clean(tmp_path)
    assert [s for s, _ in practices_of(result)] == ["项目谋划招引", "项目推进措施", "项目要素保障"]


@pytest.mark.parametrize("fmt", ["doc", "odt"])
def test_a_word_97_document_is_converted_by_libreoffice(tmp_path, fmt):
    layouts.resaved_by_libreoffice(with_headings, "典型做法.docx", raw(tmp_path) / "吴忠市", fmt, package="writer")
    if fmt == "odt":  # not a narrative format: refused with a reason, nothing lost silently
        result = clean(tmp_path)
        assert (result.problems["code"] == "not_a_table").any()
        return
    result = clean(tmp_path)
    assert [c for _, c in practices_of(result)] == [c for _, c in EXPECTED]


def test_a_doc_without_libreoffice_gets_a_clear_chinese_message(tmp_path, monkeypatch):
    path = raw(tmp_path) / "吴忠市" / "典型做法.doc"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)
    monkeypatch.setenv("SOFFICE", "")
    with pytest.raises(narrative.ReadError) as info:
        narrative.read_narrative(path, "吴忠市/典型做法.doc")
    assert "未安装 LibreOffice" in info.value.problem and ".docx" in info.value.fix


def test_a_broken_docx_is_refused_in_chinese(tmp_path):
    path = raw(tmp_path) / "吴忠市" / "典型做法.docx"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"PK\x03\x04 not really a document")
    result = clean(tmp_path)
    problems = result.problems[result.problems["file"] == "吴忠市/典型做法.docx"]
    assert len(problems) and problems["problem"].str.contains("Word 文档无法打开|无法").any(), problems


def test_a_narrative_typed_into_one_big_excel_cell_is_split_the_same_way(tmp_path):
    from office import write_xlsx

    text = ("一、压实责任，抓项目的意识逐步提高\n市委市政府每月召开项目推进会，逐一研究解决问题。\n"
            "二、强化要素保障\n1．新增建设用地3000亩；2．争取专项债券12亿元。\n"
            "（三）十大工程项目稳步推进\n黄河黑山峡生态保护工程前期工作取得实质性进展。")
    write_xlsx(raw(tmp_path) / "吴忠市" / "典型做法.xlsx", {"Sheet1": [["吴忠市工作举措与典型做法"], [None], [text]]})
    result = clean(tmp_path)
    assert practices_of(result) == [EXPECTED[0], *EXPECTED[2:]]
    assert set(result.tables["practices"]["sheet"]) == {"Sheet1（A3单元格中的文字）"}


def test_a_short_note_in_one_cell_is_not_a_narrative(tmp_path):
    from office import write_xlsx

    write_xlsx(raw(tmp_path) / "吴忠市" / "说明.xlsx", {"Sheet1": [["本月无新增典型做法。"]]})
    result = clean(tmp_path)
    assert "practices" not in result.tables or result.tables["practices"].empty


def test_instructions_in_one_big_cell_are_not_practices(tmp_path):
    from office import write_xlsx

    text = ("填表说明：\n1．请各单位于每月5日前报送；\n2．项目推进情况请如实填写，金额单位为万元；"
            "\n3．联系人：张三，电话0951-1234567。\n4．要素保障方面的问题请单独说明。")
    write_xlsx(raw(tmp_path) / "吴忠市" / "说明.xlsx", {"填表说明": [[text]]})
    result = clean(tmp_path)
    assert "practices" not in result.tables or result.tables["practices"].empty
