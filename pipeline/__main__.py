"""The command line: `python -m pipeline run ROUND`, `template ROUND`, `corrections ROUND` and `sample`; and what
the Makefile does, for machines without make (Windows): `setup`, `report [ROUND]`, `test`, `lab`.

Errors the user can fix (RoundError, UserError) print their Chinese message and
exit 2; a failed step (RunError) exits 1. Neither shows a traceback.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from pipeline import cli, paths
from pipeline.cli import EXIT_USER_ERROR, ChineseParser

EXIT_FAILED_STEP = 1
EXIT_INTERRUPTED = 130
INTERRUPTED = "已中断，结果保持上次成功运行的状态"


def build_parser() -> argparse.ArgumentParser:
    parser = ChineseParser(
        prog="python -m pipeline",
        description="督查报表处理流水线：把一轮督查收到的报表整理成清洗后的数据、退回修改清单和督查报告。",
    )
    commands = parser.add_subparsers(dest="command", metavar="命令")
    commands.required = True

    run = commands.add_parser(
        "run",
        help="运行一轮督查的全部笔记本",
        description="检查 data/raw/<轮次>/round.yml，然后依次运行 notebooks/ 中的笔记本；"
        "执行后的笔记本保存在 outputs/<轮次>/notebooks/。输入、参数和代码都未变化的步骤会跳过（记录在 "
        "outputs/<轮次>/run_manifest.json），--force 全部重新运行。",
    )
    run.add_argument("round_id", metavar="轮次", help=f"轮次编号，即 data/raw/ 下的文件夹名，例如 {paths.SAMPLE_ROUND}")
    run.add_argument("--force", action="store_true",
                     help="重新运行全部笔记本（默认跳过报表、设置、笔记本和代码都未变化的步骤）")

    template = commands.add_parser(
        "template",
        help="为各单位生成填报模板（outputs/<轮次>/填报模板/）",
        description="按本轮清洗后的数据，为 round.yml 中的每个单位生成一份填报模板：每类报表一个工作表（表头锁定、"
        "带下拉列表和数据校验），已预填该单位本轮的项目基本信息，另有填表说明。需先运行该轮（make report）。",
    )
    template.add_argument("round_id", metavar="轮次", help="预填数据所取的轮次，例如 2021-12")
    template.add_argument("--next", metavar="新轮次", dest="next_round",
                          help="模板用于哪一轮（写在模板标题中），例如 2022-06；默认即本轮")

    fixes = commands.add_parser(
        "corrections",
        help="生成更正记录的底稿 outputs/<轮次>/corrections.csv",
        description="按本轮《退回修改清单》中的每条错误生成一行更正记录（原值已填），分析人员填写修正值和依据后，"
        "复制到 data/raw/<轮次>/corrections.csv，重新运行即生效。",
    )
    fixes.add_argument("round_id", metavar="轮次", help="轮次编号，例如 2021-12")

    commands.add_parser("setup", help="创建 .venv/ 并安装依赖（仅在依赖变化时重装），同 make setup",
                        description="创建或更新项目的 .venv/（requirements.lock 中锁定的版本），然后检查系统软件"
                        "（Linux 上以 root 运行时安装 Chromium、中文字体和 LibreOffice）。")
    report = commands.add_parser("report", help=f"运行一轮（默认 {paths.SAMPLE_ROUND}），同 make report",
                                 description="需要时先准备 .venv/，然后运行该轮的全部笔记本（同 run）。")
    report.add_argument("round_id", metavar="轮次", nargs="?", default=paths.SAMPLE_ROUND,
                        help=f"轮次编号（默认 {paths.SAMPLE_ROUND}）")
    report.add_argument("--force", action="store_true", help="重新运行全部笔记本")
    tests = commands.add_parser("test", help="代码检查（ruff）并运行全部测试，同 make test",
                                description="先用 ruff 检查代码，再运行 pytest；其余参数原样交给 pytest。")
    tests.add_argument("pytest_args", metavar="pytest参数", nargs="*",
                       help="交给 pytest 的参数，原样按顺序（如 -x -q tests/某文件.py -k 关键字）")
    commands.add_parser("clean", help="删除 data/processed/、outputs/ 下的全部生成结果和 .cache/，同 make clean",
                        description="删除 data/processed/ 和 outputs/ 下的全部生成结果（保留 .gitkeep）及 .cache/ 中的"
                        "读取缓存；data/raw/ 中的原始报表不动。")
    lab = commands.add_parser("lab", help="在项目环境中以简体中文打开 JupyterLab，同 make lab",
                              description="注册项目的内核“Python（督查流水线）”，以项目根目录为根、简体中文界面、"
                              "不弹出新闻提示打开 JupyterLab；其余参数原样交给 JupyterLab"
                              "（如 --no-browser --port 8899）。")
    lab.add_argument("lab_args", nargs=argparse.REMAINDER, metavar="JupyterLab参数",
                     help="交给 jupyter lab 的参数，原样按顺序")

    sample = commands.add_parser(
        "sample",
        help="重新生成示例轮次数据（data/raw/）",
        description="生成两轮虚构的示例报表（2021-12 及其上一轮 2021-09），供试运行和测试使用。",
    )
    sample.add_argument("--out", metavar="文件夹", help="示例数据写到哪个文件夹（默认 data/raw/）")
    sample.add_argument("--projects", metavar="N", type=int, help="每轮重大项目个数（默认 600）")
    sample.add_argument("--seed", metavar="种子", type=int, help="随机种子；相同种子生成相同的文件")
    return parser


def main(argv: list[str] | None = None) -> int:
    cli.safe_console()
    cli.interruptible()
    try:
        return _main(argv)
    except KeyboardInterrupt:  # also while the runner is still being imported
        # One line: a run that is interrupted never publishes (see pipeline/run/staging.py).
        print(("\n" if sys.stderr.isatty() else "") + INTERRUPTED, file=sys.stderr)
        return EXIT_INTERRUPTED


def _main(argv: list[str] | None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["test"] and not {"-h", "--help"} & set(argv[1:]):  # pytest's own options, as given, in order
        args = argparse.Namespace(command="test", pytest_args=argv[1:])
    elif argv[:1] == ["lab"] and not {"-h", "--help"} & set(argv[1:]):  # JupyterLab's own options, as given
        args = argparse.Namespace(command="lab", lab_args=argv[1:])
    else:
        args = build_parser().parse_args(argv)
    if args.command == "setup":
        return cli.setup(paths.PROJECT_ROOT)
    if args.command == "clean":
        return cli.clean(paths.PROJECT_ROOT)
    elsewhere = cli.in_project_environment(argv, paths.PROJECT_ROOT)  # no dependencies here: .venv/ runs it
    if elsewhere is not None:
        return elsewhere
    if args.command == "test":
        return _test(args)
    if args.command == "lab":
        return _lab(args.lab_args)
    from pipeline.rounds import RoundError
    from pipeline.run.runner import RunError, UserError

    try:
        if args.command in ("run", "report"):
            return _run(args)
        if args.command in ("template", "corrections"):  # they read published results: a crashed publish first
            from pipeline.run import staging

            staging.recover_all(paths.PROJECT_ROOT)
        if args.command == "template":
            return _template(args)
        if args.command == "corrections":
            return _corrections(args)
        return _sample(args)
    except RunError as exc:
        _fail(exc)
        return EXIT_FAILED_STEP
    except (RoundError, UserError) as exc:
        _fail(exc)
        return EXIT_USER_ERROR


def _run(args: argparse.Namespace) -> int:
    from pipeline.paths import shown_path
    from pipeline.run.runner import format_seconds, run_round

    result = run_round(args.round_id, force=args.force)
    root = paths.PROJECT_ROOT
    if result.all_skipped:
        print(f"\n轮次 {args.round_id} 的报表、设置、笔记本和代码都没有变化，{len(result.steps)} 个步骤全部跳过"
              f"（用时 {format_seconds(result.seconds)}；要全部重新运行，请加 --force）。结果仍在：")
    else:
        print(f"\n轮次 {args.round_id} 运行完成，共用时 {format_seconds(result.seconds)}。结果在：")
    for path, what in [
        (result.processed_dir, "清洗后的数据、隔离行和台账"),
        (result.outputs_dir, "督查报告 report.html（及 PDF、Word 版 report.docx）、"
                             "indicators.json、数字来源、督办清单、退回修改清单和图表"),
        (result.executed_dir, "执行后的笔记本（用 make lab 打开查看）"),
    ]:
        print(f"  {shown_path(path, root) + '/':<32} {what}")
    return 0


def _test(args: argparse.Namespace) -> int:
    root = paths.PROJECT_ROOT
    lint = subprocess.run([sys.executable, "-m", "ruff", "check", "pipeline", "tests"], cwd=root).returncode
    if lint:
        return lint
    return subprocess.run([sys.executable, "-m", "pytest", *args.pytest_args], cwd=root).returncode


# JupyterLab's settings for the project's environment (share/jupyter/lab/settings/overrides.json under sys.prefix):
# the interface in Simplified Chinese (the language pack is pinned with the rest) and no news pop-up or update check.
LAB_OVERRIDES = {
    "@jupyterlab/translation-extension:plugin": {"locale": "zh_CN"},
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
}


def write_lab_overrides(prefix: Path) -> Path:
    """Merge LAB_OVERRIDES into the environment's overrides.json (other settings there are kept)."""
    import json

    path = Path(prefix) / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        current = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    except ValueError:
        current = {}
    merged = {**current, **{k: {**current.get(k, {}), **v} for k, v in LAB_OVERRIDES.items()}}
    path.write_text(json.dumps(merged, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path


def _lab(lab_args: list[str] | None = None) -> int:
    from pipeline.run.runner import KERNEL_DISPLAY_NAME, KERNEL_NAME

    root = paths.PROJECT_ROOT
    subprocess.run([sys.executable, "-m", "ipykernel", "install", "--sys-prefix", "--name", KERNEL_NAME,
                    "--display-name", KERNEL_DISPLAY_NAME], check=True, stdout=subprocess.DEVNULL)
    write_lab_overrides(Path(sys.prefix))
    command = [sys.executable, "-m", "jupyter", "lab", f"--ServerApp.root_dir={root}", *(lab_args or [])]
    if hasattr(os, "getuid") and os.getuid() == 0:
        command.append("--allow-root")
    return subprocess.run(command, cwd=root, env={**os.environ, "JUPYTER_PREFER_ENV_PATH": "1"}).returncode


def _template(args: argparse.Namespace) -> int:
    from pipeline.ingest import return_template
    from pipeline.paths import shown_path
    from pipeline.rounds import check_round_id

    if args.next_round:
        check_round_id(args.next_round)
    from pipeline.run.runner import UserError

    try:
        written = return_template.write_templates(args.round_id, args.next_round, paths.PROJECT_ROOT)
    except return_template.TemplateError as exc:
        raise UserError(str(exc)) from None
    folder = written[0].parent if written else paths.outputs_round_dir(args.round_id, paths.PROJECT_ROOT)
    print(f"已生成填报模板 {len(written)} 份，在 {shown_path(folder, paths.PROJECT_ROOT)}/：")
    for path in written:
        print(f"  {path.name}")
    return 0


def _corrections(args: argparse.Namespace) -> int:
    from pipeline.ingest import corrections
    from pipeline.paths import shown_path
    from pipeline.run.runner import UserError

    try:
        path, rows = corrections.write_skeleton(args.round_id, paths.PROJECT_ROOT)
    except corrections.CorrectionsError as exc:
        raise UserError(str(exc)) from None
    print(f"已生成更正记录底稿 {shown_path(path, paths.PROJECT_ROOT)}（{rows} 行，每行一条需修改的错误，原值已填）。"
          f"填写“修正值”（或“删除行”“保留”）、“依据”“修正人”“日期”后，复制到 data/raw/{args.round_id}/corrections.csv，"
          f"再运行 make report ROUND={args.round_id}。")
    return 0


def _sample(args: argparse.Namespace) -> int:
    argv = []
    if args.out is not None:
        argv += ["--out", args.out]
    if args.projects is not None:
        argv += ["--projects", str(args.projects)]
    if args.seed is not None:
        argv += ["--seed", str(args.seed)]
    from pipeline.run.runner import UserError

    try:
        import pipeline.devtools.sample as sample  # lazily: only this subcommand needs it
    except ModuleNotFoundError as exc:
        if exc.name != "pipeline.devtools.sample":
            raise
        raise UserError("本项目中还没有生成示例数据的模块（pipeline/devtools/sample.py）。") from None
    return sample.main(argv) or 0


def _fail(exc: BaseException) -> None:
    print(f"错误：{exc}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
