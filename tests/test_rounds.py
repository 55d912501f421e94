"""round.yml and round ids: every mistake an analyst can make gets a Chinese message before anything runs."""
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
