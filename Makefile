# The project's front door on Linux and macOS. `make` alone lists the targets.
#
# Each target is a `python -m pipeline` command, which works without make too (Windows: `py -m pipeline report`).
# The venv lives in .venv; `python -m pipeline setup` (pipeline/cli.py) (re)installs it only when pyproject.toml
# or requirements.lock changed: requirements.lock is the full resolved set, then the project itself, editable,
# with --no-deps so nothing outside the lock gets in.

SHELL := /bin/bash
.DEFAULT_GOAL := help

ROUND ?= 2021-12
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: help setup report test lab sample screenshot bench corpus clean template corrections docs

help: ## 列出可用的命令（默认）
	@echo "用法：make <命令> [ROUND=轮次]      （ROUND 默认为 $(ROUND)）"
	@echo
	@awk -F ':.*## ' '/^[a-z][a-z_-]*:.*## / { printf "  make %-11s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

setup: ## 创建 .venv 并安装依赖（仅在依赖变化时重装）；以 root 运行时自动安装 Chromium 和中文字体
	@python3 -m pipeline setup

report: setup ## 运行一轮督查的全部笔记本，例如 make report ROUND=2021-12
	$(PY) -m pipeline run $(ROUND)

template: setup ## 为各单位生成填报模板（需先 make report），例如 make template ROUND=2021-12 NEXT=2022-06
	$(PY) -m pipeline template $(ROUND) $(if $(NEXT),--next $(NEXT))

corrections: setup ## 按退回修改清单生成更正记录底稿 outputs/<轮次>/corrections.csv
	$(PY) -m pipeline corrections $(ROUND)

test: setup ## 代码检查（ruff）并运行全部测试
	$(PY) -m pipeline test

lab: setup ## 在项目环境中以简体中文打开 JupyterLab（可查看 notebooks/ 和 outputs/<轮次>/notebooks/）；另加参数：make lab LAB_ARGS="--no-browser --port 8899"
	$(PY) -m pipeline lab $(LAB_ARGS)

sample: setup ## 重新生成 data/raw/ 下的示例轮次数据
	$(PY) -m pipeline sample

docs: setup ## 按 pipeline/indicators/keys.csv、tables.csv 和 pipeline/ingest/problems.csv 重新生成 docs/indicators.md 的键表、统计表和 docs/problems.md 的问题表
	$(PY) -c "from pipeline.indicators import keys; keys.main()"
	$(PY) -m pipeline.ingest.problems
	$(PY) -m pipeline.devtools.columns_doc

screenshot: setup ## 用最近一次生成的示例报告重新截取 README 中的截图（docs/report-screenshot.png）
	$(PY) scripts/report-screenshot.py

# Sizes (projects per round) the benchmark measures; 100000 takes a quarter of an hour; 1000000 (not in the
# default) measures read + clean only and takes long to generate and read (docs/performance.md).
BENCH_SIZES ?= 600,10000,100000

bench: setup ## 性能测试：600、1万、10万个项目的用时、峰值内存和比值，逐行对照议题 25 的目标（只测部分：make bench BENCH_SIZES=600,10000）
	$(PY) -m pipeline.devtools.bench --sizes $(BENCH_SIZES)

corpus: setup ## 表头识别率：按独立编写的表头语料（tests/fixtures/header_corpus.csv）统计已对应、有意不读、未识别的表头
	$(PY) -m pipeline.devtools.corpus

clean: ## 删除 data/processed/ 和 outputs/ 下的全部生成结果（保留 .gitkeep）及 .cache/ 中的读取缓存
	find data/processed outputs -mindepth 1 -maxdepth 1 ! -name .gitkeep -exec rm -rf {} +
	rm -rf .cache
