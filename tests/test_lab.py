"""make lab: JupyterLab in Simplified Chinese without the news pop-up, extra arguments passed on
(pipeline/__main__.py)."""
from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import entry_points

from pipeline import __main__ as cli_main
from pipeline import paths


def test_the_chinese_language_pack_is_installed_for_jupyterlab():
    assert "zh_CN" in {e.name for e in entry_points(group="jupyterlab.languagepack")}


def test_overrides_set_chinese_and_no_news_and_keep_the_analysts_other_settings(tmp_path):
    path = tmp_path / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"@jupyterlab/apputils-extension:themes": {"theme": "JupyterLab Dark"},
                                "@jupyterlab/apputils-extension:notification": {"doNotDisturbMode": True}}),
                    encoding="utf-8")
    assert cli_main.write_lab_overrides(tmp_path) == path
    settings = json.loads(path.read_text(encoding="utf-8"))
    assert settings["@jupyterlab/translation-extension:plugin"]["locale"] == "zh_CN"
    assert settings["@jupyterlab/apputils-extension:notification"] == {
        "doNotDisturbMode": True, "fetchNews": "false", "checkForUpdates": False}
    assert settings["@jupyterlab/apputils-extension:themes"] == {"theme": "JupyterLab Dark"}
    cli_main.write_lab_overrides(tmp_path)  # again: the same file
    assert json.loads(path.read_text(encoding="utf-8")) == settings


def test_extra_arguments_go_to_jupyterlab_as_given():
    # make lab LAB_ARGS="--version": JupyterLab answers, not the pipeline's argument parser.
    result = subprocess.run([sys.executable, "-m", "pipeline", "lab", "--version"], cwd=paths.PROJECT_ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().split(".")[0] == "4"
    makefile = (paths.PROJECT_ROOT / "Makefile").read_text(encoding="utf-8")
    assert "-m pipeline lab $(LAB_ARGS)" in makefile
