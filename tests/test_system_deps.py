"""scripts/install-system-deps.sh: installs chromium, fonts-noto-cjk and LibreOffice (writer, calc; no GUI) with
apt-get when root and missing, says in Chinese what to install otherwise, and does nothing when they are there.

apt-get, dpkg-query and id are replaced by stand-ins on PATH, so nothing is installed by the tests.
"""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

from pipeline import paths as config

SCRIPT = config.PROJECT_ROOT / "scripts" / "install-system-deps.sh"


def fake_bin(tmp_path: Path, *, installed: bool, uid: int, known: tuple[str, ...] = ("chromium",)) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    status = "install ok installed" if installed else "unknown ok not-installed"
    tools = {
        "dpkg-query": f"#!/bin/sh\nprintf '%s' '{status}'\n",
        "apt-get": f"#!/bin/sh\necho \"apt-get $*\" >> '{tmp_path / 'apt.log'}'\n",
        "id": f"#!/bin/sh\necho {uid}\n",
    }
    if known:  # the packages apt-cache knows (Debian: chromium)
        cases = " ".join(known)
        tools["apt-cache"] = f"#!/bin/sh\nfor p in {cases}; do [ \"$2\" = \"$p\" ] && exit 0; done\nexit 100\n"
    for name, body in tools.items():
        (bin_dir / name).write_text(body)
        (bin_dir / name).chmod(0o755)
    return bin_dir


def run(tmp_path: Path, **kwargs) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{fake_bin(tmp_path, **kwargs)}:/usr/bin:/bin"}
    return subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, env=env, timeout=60)


def test_nothing_to_do_when_installed(tmp_path):
    done = run(tmp_path, installed=True, uid=0)
    assert done.returncode == 0 and done.stdout == ""
    assert not (tmp_path / "apt.log").exists()


def test_installs_the_missing_packages_as_root(tmp_path):
    done = run(tmp_path, installed=False, uid=0)
    assert done.returncode == 0, done.stderr
    log = (tmp_path / "apt.log").read_text().splitlines()
    assert log[0].startswith("apt-get update")
    assert log[1] == ("apt-get install -y -qq --no-install-recommends chromium fonts-noto-cjk "
                      "libreoffice-writer-nogui libreoffice-calc-nogui")
    assert "正在安装系统软件包" in done.stdout


def test_where_the_browser_is_called_chromium_browser_that_package_is_installed(tmp_path):
    """Ubuntu-based systems (银河麒麟) know the browser as chromium-browser only."""
    done = run(tmp_path, installed=False, uid=0, known=("chromium-browser", "fonts-noto-cjk"))
    assert done.returncode == 0, done.stderr
    log = (tmp_path / "apt.log").read_text().splitlines()
    assert log[1].startswith("apt-get install -y -qq --no-install-recommends chromium-browser fonts-noto-cjk ")


def test_explains_in_chinese_when_not_root(tmp_path):
    done = run(tmp_path, installed=False, uid=1000)
    assert done.returncode == 0
    assert not (tmp_path / "apt.log").exists()
    assert ("sudo apt-get install -y --no-install-recommends chromium fonts-noto-cjk "
            "libreoffice-writer-nogui libreoffice-calc-nogui") in done.stdout
    assert "不是 root" in done.stdout


def test_script_is_valid_bash():
    assert subprocess.run(["bash", "-n", str(SCRIPT)]).returncode == 0
