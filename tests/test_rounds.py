"""round.yml and round ids: every mistake an analyst can make gets a Chinese message before anything runs."""
import re

import pytest
from office import write_round

from pipeline import rounds


def load(tmp_path, text=None, round_id="r"):
    folder = tmp_path / "data" / "raw" / "r"
    folder.mkdir(parents=True, exist_ok=True)
    if text is not None:
        (folder / "round.yml").write_text(text, encoding="utf-8")
    return rounds.load_round(round_id, tmp_path)


def test_a_good_round(tmp_path):
    write_round(tmp_path / "data" / "raw" / "r", ["银川市", "水利厅"], previous="2021-09", start_rate_base="all")
    round_ = rounds.load_round("r", tmp_path)
    assert (round_.as_of.isoformat(), round_.units, round_.previous, round_.start_rate_base, round_.year) == (
        "2021-11-30", ("银川市", "水利厅"), "2021-09", "all", 2021)


@pytest.mark.parametrize("text, message", [
    ("as_of: 2021-13-45\nunits: [银川市]\n", "中有不存在的日期"),
    ("as_of: 下个月\nunits: [银川市]\n", "as_of（数据截至日期）缺失或不是有效日期"),
    ("units: [银川市]\n", "as_of（数据截至日期）缺失"),
    ("as_of: 2021-11-30\nunits: []\n", "units（应报送单位）缺失或为空"),
    ("as_of: 2021-11-30\n", "units（应报送单位）缺失或为空"),
    ("as_of: 2021-11-30\nunits: [银川市, 银川市]\n", "有重复的单位名称"),
    ("as_of: 2021-11-30\nunits: [银川市]\nasof: 2021-11-30\nunit: [x]\n", "无法识别的设置项：asof、unit"),
    ("as_of: 2021-11-30\nunits: [银川市]\nstart_rate_base: half\n", "start_rate_base 只能是 new"),
    ("as_of: 2021-11-30\nunits: [银川市]\nprevious: ../2021-09\n", "轮次编号“../2021-09”不合法"),
    ("as_of: 2021-11-30\nunits: [银川市\n", "无法解析"),
    ("- 银川市\n- 水利厅\n", "应为“键: 值”的形式"),
])
def test_bad_round_files_say_what_to_fix(tmp_path, text, message):
    with pytest.raises(rounds.RoundError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load(tmp_path, text)


@pytest.mark.parametrize("round_id", ["../x", "a/b", "..", "a\\b", "", "x" * 80, "/etc"])
def test_round_ids_with_path_separators_are_refused(tmp_path, round_id):
    with pytest.raises(rounds.RoundError, match="不合法"):
        rounds.load_round(round_id, tmp_path)


def test_missing_round_folder_and_missing_round_file(tmp_path):
    with pytest.raises(rounds.RoundError, match="找不到轮次文件夹"):
        rounds.load_round("2030-01", tmp_path)
    with pytest.raises(rounds.RoundError, match="缺少 round.yml"):
        load(tmp_path)


# --------------------------------------------------------------------------- issue 10: values that need a message


@pytest.mark.parametrize("text, message", [
    ("as_of: 2021-11-30\nunits: [银川市, \"银川市 \", 吴忠市]\n", "有重复的单位名称：银川市"),
    ("as_of: 2021-11-30\nunits:\n  - 吴忠市\n  - 固原市\n  - 吴忠市\n", "有重复的单位名称：吴忠市"),
    ("as_of: 2021-11-30\nunits: [银川市]\nsample: 也许\n",
     "sample 应为 true 或 false（也可写“是”或“否”），而不是“也许”"),
    ("as_of: 2021-11-30\nunits: [银川市]\nsample: 1\n", "sample 应为 true 或 false"),
    ("as_of: 2021-11-30\nunits: [银川市]\nprevious: r\n", "previous（上一轮）写的是本轮自己（r）"),
    ("base: &u [银川市, 吴忠市]\nas_of: 2021-11-30\nunits: *u\n", "第1行使用了 YAML 的锚点或别名"),
])
def test_round_values_that_would_mislead_are_refused(tmp_path, text, message):
    with pytest.raises(rounds.RoundError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load(tmp_path, text)


@pytest.mark.parametrize("written, meant", [("是", True), ("否", False), ("\"否\"", False), ("'true'", True),
                                            ("FALSE", False), ("true", True), ("false", False)])
def test_sample_accepts_booleans_and_the_words_shi_and_fou(tmp_path, written, meant):
    assert load(tmp_path, f"as_of: 2021-11-30\nunits: [银川市]\nsample: {written}\n").sample is meant


def test_a_yaml_alias_bomb_is_refused_before_it_expands(tmp_path):
    lines = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    lines += [f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 9) + "]" for i in range(8)]
    text = "\n".join(lines) + "\nas_of: 2021-11-30\nunits: [银川市]\n"  # 9**9 items once expanded
    with pytest.raises(rounds.RoundError, match="锚点或别名"):
        load(tmp_path, text)


def test_two_rounds_naming_each_other_as_previous_are_refused(tmp_path):
    write_round(tmp_path / "data" / "raw" / "2021-09", ["银川市"], previous="2021-12")
    write_round(tmp_path / "data" / "raw" / "2021-12", ["银川市"], previous="2021-09")
    with pytest.raises(rounds.RoundError, match="形成了循环：2021-12 → 2021-09 → 2021-12"):
        rounds.load_round("2021-12", tmp_path)
    write_round(tmp_path / "data" / "raw" / "2021-06", ["银川市"], previous="2021-03")  # a chain that ends is fine
    write_round(tmp_path / "data" / "raw" / "2021-09", ["银川市"], previous="2021-06")
    assert rounds.load_round("2021-12", tmp_path).previous == "2021-09"


def test_as_of_in_the_future_is_a_warning_not_an_error(tmp_path):
    import datetime as dt

    future = dt.date.today() + dt.timedelta(days=40)
    opening = "inspection_start: 2021-12-06\ninspection_end: 2021-12-10\ngroups: 5\n"
    round_ = load(tmp_path, f"as_of: {future:%Y-%m-%d}\nunits: [银川市]\n{opening}")
    assert round_.as_of == future
    assert len(round_.warnings) == 1 and "晚于今天" in round_.warnings[0] and f"{future:%Y-%m-%d}" in round_.warnings[0]
    assert load(tmp_path, f"as_of: 2021-11-30\nunits: [银川市]\n{opening}").warnings == ()


@pytest.mark.parametrize("given, named, not_named", [
    ("", ["inspection_start", "inspection_end", "groups"], []),
    ("groups: 4\n", ["inspection_start", "inspection_end"], ["groups"]),
    ("inspection_start: 2022-06-13\ninspection_end: 2022-06-17\n", ["groups"], ["inspection_"]),
])
def test_what_round_yml_could_add_to_the_opening_is_said_before_the_run(tmp_path, given, named, not_named):
    warnings = load(tmp_path, f"as_of: 2022-05-31\nunits: [银川市]\n{given}").warnings
    hints = [w for w in warnings if "报告开头" in w]
    assert len(hints) == 1 and all(k in hints[0] for k in named) and not any(k in hints[0] for k in not_named)


def test_the_runner_prints_the_future_as_of_warning_before_running(tmp_path, monkeypatch):
    import datetime as dt
    import json

    from pipeline.run import runner

    future = dt.date.today() + dt.timedelta(days=40)
    load(tmp_path, f"as_of: {future:%Y-%m-%d}\nunits: [银川市]\n")
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / runner.CHAIN[0][0]).write_text(json.dumps({"cells": [
        {"cell_type": "code", "metadata": {"tags": ["parameters"]}, "source": 'round_id = ""\nroot = ""'}]}),
        encoding="utf-8")
    monkeypatch.setattr(runner, "run_notebook", lambda *a, **k: None)
    lines = []
    runner.run_round("r", root=tmp_path, echo=lines.append, progress=False)
    assert any("晚于今天" in line for line in lines[:3]), lines


# ============================================================ slips in round.yml, said with their line (round_yml.py)

GOOD = "title: 测试\nas_of: 2021-11-30\nunits:\n  - 银川市\n  - 吴忠市\n"


def error_of(tmp_path, text: str) -> str:
    with pytest.raises(rounds.RoundError) as info:
        load(tmp_path, text)
    return str(info.value)


@pytest.mark.parametrize("text, line, words", [
    (GOOD.replace("as_of: ", "as_of： "), 2, "全角“：”"),  # full-width colon after a key
    ("title: 测试\nas_of: 2021-11-30\nunits：\n  - 银川市\n", 3, "全角“：”"),
    (GOOD.replace("  - 吴忠市", "\t- 吴忠市"), 5, "Tab"),  # a Tab in the indentation
    ("title: 测试\nas_of: 2021-11-30\nunits:\n\t- 银川市\n\t- 吴忠市\n", 4, "Tab"),
    ("title: 测试\nas_of: 2021-11-30\nunits: [银川市, 吴忠市\n", None, "半角“:”"),  # no hint found: what to check
])
def test_a_syntax_slip_names_its_line_and_what_to_change(tmp_path, text, line, words):
    message = error_of(tmp_path, text)
    assert "ScannerError" not in message and "ParserError" not in message
    assert re.search(r"第\d+行", message), message
    if line:
        assert f"第{line}行" in message, message
    assert words in message, message


@pytest.mark.parametrize("written, wanted", [("2021/11/30", "2021-11-30"), ("2021.11.30", "2021-11-30"),
                                             ("2021年11月30日", "2021-11-30"), ("2021/6/5", "2021-06-05")])
def test_a_date_written_another_way_says_how_to_write_it_and_where(tmp_path, written, wanted):
    message = error_of(tmp_path, f"title: 测试\nunits: [银川市]\nas_of: {written}\n")
    assert f"写的是“{written}”" in message and f"请写成 {wanted}" in message and "第3行" in message
    message = error_of(tmp_path, f"as_of: 2021-11-30\nunits: [银川市]\ninspection_start: {written}\n")
    assert f"请写成 {wanted}" in message and "inspection_start" in message and "第3行" in message


@pytest.mark.parametrize("units", ["银川市、吴忠市、固原市", "[银川市、吴忠市]", "[银川市，吴忠市]",
                                   "\n  - 银川市、吴忠市"])
def test_units_written_with_a_chinese_separator_say_how_to_list_them(tmp_path, units):
    message = error_of(tmp_path, f"as_of: 2021-11-30\nunits: {units}\n")
    assert "[银川市, 吴忠市]" in message and "第2行" in message, message


def test_a_round_that_does_not_exist_lists_those_that_do_and_the_closest(tmp_path):
    for round_id in ("2021-12", "2022-06", "2021-09"):
        write_round(tmp_path / "data" / "raw" / round_id, ["银川市"])
    (tmp_path / "data" / "raw" / "草稿").mkdir()  # a folder without round.yml is no round
    with pytest.raises(rounds.RoundError) as info:
        rounds.load_round("2022-6", tmp_path)
    message = str(info.value)
    assert "现有的轮次：2021-09、2021-12、2022-06。" in message and "make report ROUND=2022-06" in message
    assert "草稿" not in message
    with pytest.raises(rounds.RoundError, match="现有的轮次") as info:
        rounds.load_round("xyz", tmp_path)
    assert "是不是" not in str(info.value)
