"""The one Chinese argparse set-up, shared by the command line (pipeline/__main__.py), the sample generator and
the benchmark (pipeline/devtools/): headings, help and error lines in Chinese, exit code 2 on a usage error."""
from __future__ import annotations

import argparse
import sys

EXIT_USER_ERROR = 2


class ChineseParser(argparse.ArgumentParser):
    """argparse with Chinese headings, help and error lines (argparse itself speaks English)."""

    def __init__(self, **kwargs):
        super().__init__(formatter_class=_Formatter, add_help=False, **kwargs)
        self._positionals.title = "参数"
        self._optionals.title = "选项"
        self.add_argument("-h", "--help", action="help", help="显示本帮助并退出")

    def error(self, message: str):
        for english, chinese in _ARGPARSE_MESSAGES.items():
            message = message.replace(english, chinese)
        self.print_usage(sys.stderr)
        self.exit(EXIT_USER_ERROR, f"错误：命令行参数有误（{message}）。运行 {self.prog} -h 查看用法。\n")


_ARGPARSE_MESSAGES = {
    "the following arguments are required: ": "缺少",
    "unrecognized arguments: ": "无法识别的参数 ",
    "invalid choice: ": "无效的选择 ",
    "invalid int value: ": "应为整数，而不是 ",
    "choose from ": "可选 ",
    "argument ": "参数 ",
}


class _Formatter(argparse.HelpFormatter):
    def add_usage(self, usage, actions, groups, prefix=None):
        super().add_usage(usage, actions, groups, prefix="用法：" if prefix is None else prefix)
