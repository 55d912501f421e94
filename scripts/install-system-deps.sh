#!/usr/bin/env bash
# System packages the project needs beyond Python (Debian/Ubuntu, 统信 UOS, 银河麒麟):
#   chromium        headless browser: the browser test of the report and report.pdf (A4)
#   fonts-noto-cjk  Noto Sans CJK (SIL Open Font License): Chinese text in the figures
#   libreoffice-writer-nogui  renders report.docx to PDF in the tests and for the README screenshot
#   libreoffice-calc-nogui    opens the xlsx deliverables headless (asked for by the lead; no test uses it yet)
# Installed with apt-get when running as root and missing; otherwise prints, in Chinese,
# what is missing and how to install it, and exits 0 (the pipeline still runs: without
# chromium there is no PDF; without a CJK font the figures fall back to the machine's
# own Chinese fonts such as Microsoft YaHei, SimHei or PingFang; without LibreOffice the
# test that renders report.docx is skipped).
# Idempotent and quick when everything is present. Usage: scripts/install-system-deps.sh
set -euo pipefail

# The browser's package: chromium on Debian and 统信 UOS; chromium-browser where only that name is known
# (Ubuntu-based systems such as 银河麒麟).
browser_package() {
    if command -v apt-cache >/dev/null 2>&1 && ! apt-cache show chromium >/dev/null 2>&1 \
        && apt-cache show chromium-browser >/dev/null 2>&1; then
        echo chromium-browser
    else
        echo chromium
    fi
}

PACKAGES=("$(browser_package)" fonts-noto-cjk libreoffice-writer-nogui libreoffice-calc-nogui)

installed() {  # a Debian package is installed
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
    if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
        exit 0
    fi
    echo "提示：本机不是 Debian/Ubuntu，未自动安装系统依赖。报告的 PDF 和浏览器测试需要 Chromium（macOS 可用 brew install --cask chromium）；" \
         "图表中的中文使用本机已有的中文字体（思源黑体/Noto Sans CJK、微软雅黑、黑体或苹方）。"
    exit 0
fi

missing=()
for package in "${PACKAGES[@]}"; do
    installed "$package" || missing+=("$package")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -ne 0 ]]; then
    echo "提示：缺少系统软件包 ${missing[*]}（Chromium 用于生成报告 PDF 和浏览器测试，fonts-noto-cjk 为图表中文字体，LibreOffice 用于在测试中把 report.docx 转为 PDF）。" \
         "当前不是 root 用户，未自动安装；请运行：sudo apt-get install -y --no-install-recommends ${missing[*]}"
    exit 0
fi

echo "正在安装系统软件包：${missing[*]} …"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "系统软件包已安装：${missing[*]}。"
