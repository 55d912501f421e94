"""The Chinese font of the figures, found on the platform the analyst works on.

``cjk_font()`` registers Noto Sans CJK (SIL Open Font License; Debian's ``fonts-noto-cjk``, installed by
``scripts/install-system-deps.sh``) with matplotlib's font manager, or takes a Chinese font the machine already has:
Microsoft YaHei, DengXian, SimHei or SimSun on Windows (its own and the user's font folders), Noto/思源 or 文泉驿 on
统信 UOS and 银河麒麟, PingFang on macOS, and as a last resort any installed font that draws Chinese. With none it
raises FontMissingError, whose Chinese message says how to install one for this platform: charts never fall back to
boxes silently.
"""
from __future__ import annotations

import contextlib
import functools
import glob
import os
from pathlib import Path

from matplotlib import font_manager

# Families with Simplified Chinese glyphs, best first. Noto Sans CJK SC comes with the
# project's set-up (OFL, redistributable); the rest are what analysts' machines have:
# Windows (微软雅黑, 等线, 黑体, 宋体), 统信 UOS and 银河麒麟 (Noto Sans CJK / 思源黑体, 文泉驿), macOS.
CJK_FAMILIES = (
    "Noto Sans CJK SC", "Source Han Sans SC", "Source Han Sans CN", "Noto Sans SC",
    "Microsoft YaHei", "Microsoft YaHei UI", "DengXian", "SimHei", "PingFang SC", "Heiti SC", "STHeiti",
    "Hiragino Sans GB", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "SimSun", "NSimSun",
    "Noto Serif CJK SC", "Source Han Serif SC", "Noto Sans CJK JP",
)
# Where those fonts live (Debian/Ubuntu/UOS/Kylin, Fedora, Arch, macOS). Files that
# matplotlib's font cache predates are registered with fontManager.addfont.
CJK_FONT_FILES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-*.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-*.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-*.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-*.ttc",
    "/System/Library/Fonts/PingFang.ttc",
    "/System/Library/Fonts/STHeiti*.ttc",
    "/Library/Fonts/Microsoft/msyh*.tt?",
)
# Windows: (environment variable naming a folder, default, files below it): the system's fonts and the user's own.
WINDOWS_FONT_FILES = (
    ("WINDIR", "C:/Windows", ("Fonts/msyh*.tt?", "Fonts/Deng*.ttf", "Fonts/simhei.ttf", "Fonts/simsun.tt?")),
    ("LOCALAPPDATA", "", ("Microsoft/Windows/Fonts/*.tt?", "Microsoft/Windows/Fonts/*.otf")),
)
# A font that draws these has the glyphs the charts need: how a Chinese font with a family name not listed above
# (a 方正 or CESI font some offices install) is still found.
CJK_PROBE = "督查报告项目投资完成率开工"
# Fonts that map every character to a placeholder glyph (a box with the code point): they "draw" Chinese as boxes.
NOT_TEXT_FONTS = ("Last Resort",)


class FontMissingError(RuntimeError):
    """No Chinese font: the message (Chinese) says how to install one."""


def font_files() -> list[str]:
    """The font files cjk_font() registers when matplotlib has not seen them, on this platform."""
    patterns = list(CJK_FONT_FILES)
    for variable, default, below in WINDOWS_FONT_FILES:
        base = os.environ.get(variable) or default
        if base:
            patterns += [f"{Path(base).as_posix()}/{pattern}" for pattern in below]
    return [path for pattern in patterns for path in sorted(glob.glob(os.path.expanduser(pattern)))]


@functools.cache
def cjk_font() -> str:
    """The family name of the Chinese font the figures use; registers font files matplotlib has not seen.

    Raises FontMissingError when the machine has no font that draws Chinese: charts would
    otherwise show empty boxes instead of Chinese characters.
    """
    known = {Path(f.fname).resolve() for f in font_manager.fontManager.ttflist}
    for path in font_files():
        if Path(path).resolve() not in known:
            with contextlib.suppress(Exception):  # an unreadable font file is skipped, not fatal
                font_manager.fontManager.addfont(path)
    names = {f.name for f in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in names:
            return family
    drawing = _family_that_draws(CJK_PROBE)
    if drawing:
        return drawing
    raise FontMissingError(_font_missing_message())


def _family_that_draws(text: str) -> str | None:
    """The first family (by name) of a font that has a glyph for every character of text, or None."""
    for entry in sorted(font_manager.fontManager.ttflist, key=lambda f: f.name):
        if entry.name.startswith(NOT_TEXT_FONTS):
            continue
        try:
            font = font_manager.get_font(entry.fname)
        except Exception:  # noqa: BLE001 - an unreadable font file is skipped
            continue
        if all(font.get_char_index(ord(ch)) for ch in text):
            return entry.name
    return None


def _font_missing_message() -> str:
    from pipeline import platforms

    if platforms.windows_like():
        how = "请安装微软雅黑、等线、黑体或宋体之一（Windows 10/11 自带微软雅黑；可在“设置 → 个性化 → 字体”中查看）"
    else:
        how = ("请运行 scripts/install-system-deps.sh"
               "（或 sudo apt-get install fonts-noto-cjk，统信 UOS、银河麒麟同样适用）"
               "安装思源黑体（Noto Sans CJK），也可以安装文泉驿、微软雅黑、黑体或苹方等中文字体")
    return f"找不到中文字体，图表中的中文会显示为方框，因此没有绘制图表。{how}，然后重新运行。"
