"""The chain of notebooks a round runs through, and one step of it (what the runner and the rerun manifest share)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

# The chain, in order: (notebook file name, step name shown to the user).
CHAIN: list[tuple[str, str]] = [
    ("01_clean.ipynb", "清洗报表"),
    ("02_indicators.ipynb", "计算指标"),
    ("03_figures.ipynb", "绘制图表"),
    ("04_report.ipynb", "生成报告"),
]


@dataclass(frozen=True)
class Step:
    number: int  # 1-based position in CHAIN
    name: str  # Chinese step name
    notebook: Path  # the source notebook

    @property
    def label(self) -> str:
        return f"第{self.number}步「{self.name}」（{self.notebook.name}）"
