"""What differs on the analysts' machines (Windows, 统信 UOS, 银河麒麟), checked here on Linux.

- every module of the package imports where Windows lacks `resource` and `fcntl`;
- text files saved on Windows (CRLF line ends, Notepad's UTF-8 with BOM) read as the same files with LF;
- a console in GBK (cp936) shows the command line's Chinese, and a character GBK lacks never stops it;
- the command line's front door needs only the standard library (`py -m pipeline setup` on a bare Python).
"""
from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from conftest import console_encoding
from office import write_round

from pipeline import cli, paths, platforms, rounds, schemas
from pipeline.ingest import corrections

ROOT = paths.PROJECT_ROOT


def python(*args: str, env: dict | None = None, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], capture_output=True, cwd=ROOT, timeout=120,
                          env={**os.environ, **(env or {})}, **kwargs)


def test_every_module_imports_without_resource_and_fcntl():
    """Windows has neither: a module that imports one at its top cannot even be loaded there."""
    code = ("import sys\n"
            "sys.modules['resource'] = None\n"
            "sys.modules['fcntl'] = None\n"
            "import importlib, pkgutil, pipeline\n"
            "names = [m.name for m in pkgutil.walk_packages(pipeline.__path__, 'pipeline.')]\n"
            "for name in names:\n"
            "    importlib.import_module(name)\n"
            "print(len(names))\n")
    done = python("-c", code, env={platforms.FORCE_ENV: "windows"}, text=True)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) > 40


def test_the_forced_mode_takes_windows_paths(monkeypatch):
    monkeypatch.setenv(platforms.FORCE_ENV, "Windows ")
    assert platforms.windows_like() and platforms.start_method() == "spawn" and not platforms.has_rlimit()
    monkeypatch.setenv(platforms.FORCE_ENV, "amiga")  # an unknown value is ignored
    assert platforms.forced() is None
    monkeypatch.delenv(platforms.FORCE_ENV)
    assert platforms.start_method() == ("fork" if hasattr(os, "fork") else "spawn")


# --------------------------------------------------------------------------- text files saved on Windows

ROUND_YML = ("title: 2022年上半年集中督查\n"
             "as_of: 2022-05-31\n"
             "units: [银川市, 石嘴山市]   # 应报送的单位\n"
             "previous: 2021-12\n")
WINDOWS_SAVES = {"crlf": lambda text: text.replace("\n", "\r\n").encode("utf-8"),
                 "crlf-bom": lambda text: b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"),
                 "crlf-gb18030": lambda text: text.replace("\n", "\r\n").encode("gb18030")}


@pytest.mark.parametrize("save", ["crlf", "crlf-bom"])
def test_a_round_yml_saved_on_windows_reads_as_the_same_round(tmp_path, save):
    lf = tmp_path / "lf"
    write_round(lf / "data" / "raw" / "r", ["银川市"], as_of="2022-05-31")
    (lf / "data" / "raw" / "r" / "round.yml").write_text(ROUND_YML, encoding="utf-8")
    win = tmp_path / "win"
    write_round(win / "data" / "raw" / "r", ["银川市"], as_of="2022-05-31")
    (win / "data" / "raw" / "r" / "round.yml").write_bytes(WINDOWS_SAVES[save](ROUND_YML))
    expected, got = rounds.load_round("r", lf), rounds.load_round("r", win)
    assert (got.title, got.as_of, got.units, got.previous) == (expected.title, expected.as_of, expected.units,
                                                              expected.previous)
    assert got.units == ("银川市", "石嘴山市")


CORRECTIONS = ("文件,工作表,行号,列,原值,修正值,依据,修正人,日期\n"
               "银川市/项目表.xlsx,第一批,5,总投资,\"12,000\",1200,\"单位来函：多填一个0\",张三,2022-06-10\n"
               "银川市/项目表.xlsx,第一批,6,项目名称,甲项目,\"甲项目\n（二期）\",来函,张三,2022-06-10\n")


@pytest.mark.parametrize("save", sorted(WINDOWS_SAVES))
def test_a_corrections_csv_saved_on_windows_reads_as_the_same_rows(tmp_path, save):
    (tmp_path / "lf.csv").write_text(CORRECTIONS, encoding="utf-8")
    (tmp_path / "win.csv").write_bytes(WINDOWS_SAVES[save](CORRECTIONS))
    expected, got = corrections.read_csv(tmp_path / "lf.csv"), corrections.read_csv(tmp_path / "win.csv")
    assert got == expected and len(got) == 2
    assert got[0].new == "1200" and got[1].new == "甲项目\n（二期）"  # a line break inside a cell stays one \n


ALIASES = "报表类型,标准列名,表头写法\n*,seq,序号\nprojects,project_name,建设项目的名称\nprojects,batch,{任意}批次\n"


@pytest.mark.parametrize("save", sorted(WINDOWS_SAVES))
def test_a_header_alias_table_saved_on_windows_reads_as_the_same_table(tmp_path, save):
    (tmp_path / "lf.csv").write_text(ALIASES, encoding="utf-8")
    (tmp_path / "win.csv").write_bytes(WINDOWS_SAVES[save](ALIASES))
    expected, got = schemas.load_aliases(tmp_path / "lf.csv"), schemas.load_aliases(tmp_path / "win.csv")
    assert got.by_key == expected.by_key and [p[1:] for p in got.patterns] == [p[1:] for p in expected.patterns]
    assert not any("\r" in key for key in got.by_key) and len(got.patterns) == 1


# --------------------------------------------------------------------------- a console in GBK


def test_a_gbk_console_shows_the_chinese_error_and_a_character_gbk_lacks_does_not_stop_it():
    done = python("-m", "pipeline", "run", "2021-12😀", env={"PYTHONIOENCODING": "gbk"})
    said = done.stderr.decode("gbk")
    assert done.returncode == 2 and said.startswith("错误：") and "Traceback" not in said
    assert "2021-12?" in said  # the emoji, which GBK cannot show, as "?"


def test_a_gbk_console_shows_the_help():
    done = python("-m", "pipeline", "-h", env={"PYTHONIOENCODING": "gbk"})
    assert done.returncode == 0 and "督查报表处理流水线" in done.stdout.decode("gbk")


# --------------------------------------------------------------------------- without make


def test_the_front_door_needs_only_the_standard_library():
    """`py -m pipeline setup` runs on a bare Python (-S: no site-packages), and knows it lacks the dependencies."""
    done = python("-S", "-c", "from pipeline import cli; print(cli.has_dependencies())", text=True)
    assert done.returncode == 0 and done.stdout.strip() == "False", done.stderr
    helped = python("-S", "-m", "pipeline", "-h", encoding=console_encoding())
    assert helped.returncode == 0
    for command in ("setup", "report", "test", "lab", "sample", "template", "corrections", "clean"):
        assert f"    {command}" in helped.stdout, command


def test_setup_reinstalls_only_when_the_dependencies_changed(tmp_path):
    for name in ("pyproject.toml", cli.LOCK):
        (tmp_path / name).write_text("", encoding="utf-8")
    assert cli.install_needed(tmp_path)  # no venv yet
    python_path = cli.venv_python(tmp_path)
    python_path.parent.mkdir(parents=True)
    python_path.write_text("", encoding="utf-8")
    assert cli.install_needed(tmp_path)  # a venv, never installed into
    stamp = tmp_path / cli.VENV / cli.STAMP
    stamp.write_text("", encoding="utf-8")
    later = time.time() + 10
    os.utime(stamp, (later, later))
    assert not cli.install_needed(tmp_path)
    os.utime(tmp_path / cli.LOCK, (later + 10, later + 10))  # the lock regenerated
    assert cli.install_needed(tmp_path)


def test_the_venv_python_is_where_each_platform_puts_it(tmp_path):
    expected = "Scripts/python.exe" if os.name == "nt" else "bin/python"
    assert cli.venv_python(tmp_path) == tmp_path / ".venv" / expected


def test_test_hands_pytest_its_own_options(monkeypatch):
    from pipeline import __main__ as main

    seen = []
    monkeypatch.setattr(main, "_test", lambda args: seen.append(args.pytest_args) or 0)
    assert main.main(["test", "-x", "-q", "tests/test_platforms.py", "-k", "gbk"]) == 0
    assert seen[0] == ["-x", "-q", "tests/test_platforms.py", "-k", "gbk"]
    with pytest.raises(SystemExit) as refused:
        main.main(["run", "2021-12", "-x"])
    assert refused.value.code == 2


def test_report_runs_the_round_as_run_does(monkeypatch):
    from pipeline import __main__ as main

    args = main.build_parser().parse_args(["report"])
    assert (args.command, args.round_id, args.force) == ("report", paths.SAMPLE_ROUND, False)
    args = main.build_parser().parse_args(["report", "2022-06", "--force"])
    assert (args.round_id, args.force) == ("2022-06", True)
