#!/usr/bin/env bash
# Installs Tesseract and its language data from Debian for the major scripts, plus the fonts the OCR
# tests and bench render their pages with. Idempotent: installs only the packages that are missing,
# and reports (without failing) the ones this distribution does not ship.
#
#   tools/install_tessdata.sh                        # the default set below
#   MIVAA_OCR_EXTRA_LANGS="tha vie ces" tools/install_tessdata.sh   # more languages (Tesseract codes)
#
# The default set: OSD (orientation and script detection); Latin languages (eng deu fra spa ita por
# nld pol); Cyrillic (rus ukr); Greek (ell); Arabic (ara); Hebrew (heb); Devanagari (hin); Chinese
# (chi_sim chi_tra); Japanese (jpn); Korean (kor); and the script models of those scripts
# (script/Latin, script/Cyrillic ...: tesseract-ocr-script-*), which read any language of a script.
# MIVAA_OCR_EXTRA_LANGS takes Tesseract codes separated by spaces or commas ("chi_sim_vert",
# "script/Thai" or "script-thai" also work); each becomes its Debian package tesseract-ocr-<code>.
set -euo pipefail

LANGS=(eng deu fra spa ita por nld pol rus ukr ell ara heb hin chi_sim chi_tra jpn kor)
SCRIPTS=(latn cyrl grek arab hebr deva hans hant jpan hang)
FONTS=(fonts-dejavu-core fonts-noto-core fonts-noto-cjk)

package_of() {  # a Tesseract language code -> its Debian package
    local code="${1,,}"
    if [[ "$code" == script/* ]]; then
        code="${code#script/}"
        case "$code" in  # the models' names -> Debian's ISO 15924 codes, for the usual ones
            latin) code=latn ;; cyrillic) code=cyrl ;; greek) code=grek ;; arabic) code=arab ;;
            hebrew) code=hebr ;; devanagari) code=deva ;; hangul) code=hang ;; japanese) code=jpan ;;
            hansimplified) code=hans ;; hantraditional) code=hant ;;
        esac
        code="script-$code"
    fi
    echo "tesseract-ocr-${code//_/-}"
}

wanted=(tesseract-ocr tesseract-ocr-osd)
for code in "${LANGS[@]}"; do wanted+=("$(package_of "$code")"); done
for script in "${SCRIPTS[@]}"; do wanted+=("tesseract-ocr-script-$script"); done
EXTRA="${MIVAA_OCR_EXTRA_LANGS:-}"
for code in ${EXTRA//,/ }; do wanted+=("$(package_of "$code")"); done
wanted+=("${FONTS[@]}")

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

missing=()
for package in "${wanted[@]}"; do
    installed "$package" || missing+=("$package")
done
if [ "${#missing[@]}" -eq 0 ]; then
    echo "install_tessdata: all ${#wanted[@]} packages already installed"
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install_tessdata: no apt-get here; install Tesseract with these language data yourself: ${missing[*]}" >&2
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
available=()
for package in "${missing[@]}"; do
    candidate="$(apt-cache policy "$package" 2>/dev/null | awk '/Candidate:/ {print $2}')"
    if [ -n "$candidate" ] && [ "$candidate" != "(none)" ]; then
        available+=("$package")
    else
        echo "install_tessdata: $package is not in this distribution's archive; skipped" >&2
    fi
done
if [ "${#available[@]}" -gt 0 ]; then
    echo "install_tessdata: installing ${available[*]}"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${available[@]}"
fi
