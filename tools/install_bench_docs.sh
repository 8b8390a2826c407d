#!/usr/bin/env bash
# Installs what the quality bench's converted ground truth needs (bench/ground_truth/families.py):
# LibreOffice Writer without a GUI (soffice --headless --convert-to pdf, for the office documents),
# Debian's Chromium (--print-to-pdf, for the HTML pages), pdflatex (texlive-latex-base, for the LaTeX
# articles) and the fonts they print with (DejaVu, Noto for Hebrew and Arabic). Idempotent: skips what
# is already there.
#
#   tools/install_bench_docs.sh
set -euo pipefail

CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
packages=()
command -v soffice >/dev/null 2>&1 || packages+=(libreoffice-writer-nogui)
[ -x "$CHROMIUM" ] || packages+=(chromium)
command -v pdflatex >/dev/null 2>&1 || packages+=(texlive-latex-base)
fc-list 2>/dev/null | grep -q "DejaVuSerif" || packages+=(fonts-dejavu-core)
fc-list 2>/dev/null | grep -q "NotoSansHebrew" || packages+=(fonts-noto-core)

if [ "${#packages[@]}" -gt 0 ]; then
    if command -v apt-get >/dev/null 2>&1; then
        SUDO=""
        if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
        $SUDO apt-get update -qq
        $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}"
    else
        echo "install_bench_docs: no apt-get here; install ${packages[*]} yourself" >&2
        exit 1
    fi
fi
echo "install_bench_docs: $(soffice --version 2>/dev/null | head -1); $("$CHROMIUM" --version 2>/dev/null | head -1);" \
    "$(pdflatex --version 2>/dev/null | head -1)"
