"""Clean scans of known text in each major script, for the OCR tests and bench/ocr_quality.py.

Text is laid out with Pillow (HarfBuzz shaping and bidi through libraqm, so Arabic joins and runs
right to left, Devanagari conjuncts form) in Debian's fonts: Noto Sans CJK (fonts-noto-cjk), Noto
Sans Arabic/Hebrew/Devanagari (fonts-noto-core) and DejaVu Sans (fonts-dejavu-core) for Latin,
Cyrillic and Greek; tools/install_tessdata.sh installs them. Nothing here knows about OCR engines:
a page is PNG bytes plus the text it was drawn from, line by line.
"""

from __future__ import annotations

import glob
import io
import re
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont, features

from tests.ocr.groundtruth import edit_distance


@dataclass(frozen=True)
class ScriptSample:
    name: str  # e.g. "korean"
    script: str  # the script Tesseract's OSD names ("Hangul", "Han", "Cyrillic" ...)
    font: str  # glob of the font file
    font_index: int  # face in a .ttc collection
    lines: tuple[str, ...]
    rtl: bool = False
    spaced: bool = True  # whether the script separates words with spaces (CER compares without them if not)


_CJK = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
# Faces of NotoSansCJK-Regular.ttc: 0 JP, 1 KR, 2 SC, 3 TC, 4 HK.
SAMPLES: dict[str, ScriptSample] = {
    sample.name: sample
    for sample in (
        ScriptSample(
            "english",
            "Latin",
            "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
            0,
            (
                "The quarterly report shows that sales grew in every region.",
                "Costs stayed flat, and the new warehouse opened in March.",
                "The board will review the budget for next year in June.",
            ),
        ),
        ScriptSample(
            "korean",
            "Hangul",
            _CJK,
            1,
            (
                "이 보고서는 올해 상반기 지역별 매출 현황을 정리한 것입니다.",
                "서울과 부산의 매출은 작년보다 크게 증가하였습니다.",
                "다음 회의에서는 새로운 물류 센터 계획을 논의할 예정입니다.",
            ),
        ),
        ScriptSample(
            "russian",
            "Cyrillic",
            "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
            0,
            (
                "В отчёте за квартал показано, что продажи выросли во всех регионах.",
                "Расходы остались на прежнем уровне, а новый склад открылся в марте.",
                "Совет директоров рассмотрит бюджет на следующий год в июне.",
            ),
        ),
        ScriptSample(
            "greek",
            "Greek",
            "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
            0,
            (
                "Η τριμηνιαία έκθεση δείχνει ότι οι πωλήσεις αυξήθηκαν παντού.",
                "Το κόστος έμεινε σταθερό και η νέα αποθήκη άνοιξε τον Μάρτιο.",
                "Το συμβούλιο θα εξετάσει τον προϋπολογισμό τον Ιούνιο.",
            ),
        ),
        ScriptSample(
            "arabic",
            "Arabic",
            "/usr/share/fonts/truetype/noto/NotoSansArabic-Regular.ttf",
            0,
            (
                "يبين التقرير الفصلي أن المبيعات ارتفعت في جميع المناطق.",
                "بقيت التكاليف ثابتة وافتتح المستودع الجديد في شهر مارس.",
                "سيراجع مجلس الإدارة ميزانية العام المقبل في شهر يونيو.",
            ),
            rtl=True,
        ),
        ScriptSample(
            "hebrew",
            "Hebrew",
            "/usr/share/fonts/truetype/noto/NotoSansHebrew-Regular.ttf",
            0,
            (
                "הדוח הרבעוני מראה שהמכירות עלו בכל האזורים.",
                "העלויות נשארו יציבות והמחסן החדש נפתח בחודש מרץ.",
                "הדירקטוריון יבחן את התקציב לשנה הבאה בחודש יוני.",
            ),
            rtl=True,
        ),
        ScriptSample(
            "hindi",
            "Devanagari",
            "/usr/share/fonts/truetype/noto/NotoSansDevanagari-Regular.ttf",
            0,
            (
                "तिमाही रिपोर्ट के अनुसार सभी क्षेत्रों में बिक्री बढ़ी है।",
                "खर्च पहले जैसे रहे और नया गोदाम मार्च में खुला।",
                "निदेशक मंडल जून में अगले वर्ष के बजट की समीक्षा करेगा।",
            ),
        ),
        ScriptSample(
            "chinese-simplified",
            "Han",
            _CJK,
            2,
            (
                "本季度报告显示各地区的销售额均有增长。",
                "成本保持稳定，新仓库已于三月开始运营。",
                "董事会将在六月审议明年的预算方案。",
            ),
            spaced=False,
        ),
        ScriptSample(
            "chinese-traditional",
            "Han",
            _CJK,
            3,
            (
                "本季度報告顯示各地區的銷售額均有增長。",
                "成本保持穩定，新倉庫已於三月開始營運。",
                "董事會將在六月審議明年的預算方案。",
            ),
            spaced=False,
        ),
        ScriptSample(
            "japanese",
            "Japanese",
            _CJK,
            0,
            (
                "この報告書は今年の上半期の地域別売上をまとめたものです。",
                "東京と大阪の売上は昨年よりも大きく増えました。",
                "次の会議では新しい物流センターの計画について話し合います。",
            ),
            spaced=False,
        ),
    )
}


@dataclass(frozen=True)
class ScriptPage:
    sample: ScriptSample
    png: bytes
    dpi: int

    @property
    def text(self) -> str:
        return "\n".join(self.sample.lines)


def fonts_missing(sample: ScriptSample) -> str:
    """Why `sample` cannot be drawn here ("" when it can)."""
    if not glob.glob(sample.font):
        return f"font {sample.font} is not installed (tools/install_tessdata.sh installs it)"
    if sample.rtl and not features.check("raqm"):
        return "Pillow has no libraqm here, so right-to-left text cannot be shaped"
    return ""


def render(sample: ScriptSample, dpi: int = 200, points: float = 12.0, spacing: float = 1.4) -> ScriptPage:
    """The sample's lines at the top of a white A4 page, `points` high at `dpi`, `spacing` times that
    apart (a clean scan, no text layer)."""
    size = round(points * dpi / 72)
    font = ImageFont.truetype(glob.glob(sample.font)[0], size, index=sample.font_index)
    margin = round(0.6 * dpi)
    draw_options = {"direction": "rtl"} if sample.rtl else {}
    widths = [font.getlength(line, **draw_options) for line in sample.lines]
    line_height = round(size * spacing)
    width, height = round(8.27 * dpi), round(11.69 * dpi)
    margin = max(margin, (width - int(max(widths))) // 2)
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    for number, (line, line_width) in enumerate(zip(sample.lines, widths, strict=True)):
        x = width - margin - line_width if sample.rtl else margin
        draw.text((x, margin + number * line_height), line, font=font, fill=0, **draw_options)
    out = io.BytesIO()
    image.save(out, format="PNG", dpi=(dpi, dpi))
    return ScriptPage(sample, out.getvalue(), dpi)


def script_cer(sample: ScriptSample, hypothesis: str) -> float:
    """Character error rate against the sample's text: whitespace-normalised, and without spaces at all
    for scripts that do not separate words (Tesseract puts spaces between some CJK characters)."""
    truth = re.sub(r"\s+", " ", "\n".join(sample.lines)).strip()
    found = re.sub(r"\s+", " ", hypothesis).strip()
    if not sample.spaced:
        truth, found = truth.replace(" ", ""), found.replace(" ", "")
    return edit_distance(truth, found) / max(1, len(truth))
