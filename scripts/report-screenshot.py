#!/usr/bin/env python3
"""Refresh docs/report-screenshot.png, the README's picture of the sample report.

Run after `make report` (it reads outputs/2021-12/report.html):
    .venv/bin/python scripts/report-screenshot.py [ROUND]
Needs Chromium (scripts/install-system-deps.sh installs it).
"""
from __future__ import annotations

import sys

from PIL import Image

from pipeline import paths
from pipeline.report import export
from pipeline.report import render as report

ROUND = sys.argv[1] if len(sys.argv) > 1 else paths.SAMPLE_ROUND
TARGET = paths.PROJECT_ROOT / "docs" / "report-screenshot.png"


def main() -> int:
    html = paths.outputs_round_dir(ROUND) / report.HTML_FILE
    if not html.is_file():
        print(f"找不到 {html}：请先运行 make report ROUND={ROUND}。", file=sys.stderr)
        return 2
    chromium = export.find_chromium()
    if chromium is None:
        print("没有安装 Chromium：请先运行 scripts/install-system-deps.sh。", file=sys.stderr)
        return 2
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    export.screenshot(html, TARGET, chromium)
    # 256 colours are plenty for a page of text and charts: a third of the size in the repository.
    Image.open(TARGET).convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(TARGET, optimize=True)
    print(f"已更新 {TARGET.relative_to(paths.PROJECT_ROOT)}（{html.relative_to(paths.PROJECT_ROOT)} 的第一屏）。")
    return 0


if __name__ == "__main__":
    sys.exit(main())
