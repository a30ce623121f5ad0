"""Render the bundled sample scan: a 3-page Vietnamese plan (Kế hoạch) printed and scanned.

    .venv/bin/python scripts/make_sample.py [--seed-file ../shared/seeds/002_*.txt]

Writes `examples/kh-sample.pdf` (image-only, A4, 300 DPI, degraded like an office scan) and
`examples/kh-sample.gt.txt` (the printed lines in logical reading order, pages split by form feeds).
The text is an excerpt of the seed document with its markdown stripped; the layout follows the
standard administrative form: two-column header, number and date, title, sections, and the
two-column signature block ("Nơi nhận" | signer). Deterministic for a given seed file.
"""

from __future__ import annotations

import argparse
import io
import random
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont
from vanban.corpus.render import degrade

from vanban.core.files import atomic_path, atomic_write_text

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SEED = next(iter(sorted((REPO.parent / "shared" / "seeds").glob("002_*.txt"))), None)
FONT_DIR = Path("/usr/share/fonts/truetype/liberation2")
STYLES = {"": "Regular", "b": "Bold", "i": "Italic", "bi": "BoldItalic"}
DPI = 300
PAGE = (2480, 3508)  # A4 at 300 DPI
LEFT, RIGHT, TOP, BOTTOM = 354, 236, 236, 236  # margins: 30 mm left, 20 mm elsewhere
BODY_PT = 13.5
INDENT = 150  # first-line indent, 1.27 cm


def px(points: float) -> int:
    return round(points * DPI / 72)


@lru_cache(maxsize=16)
def font(style: str = "", points: float = BODY_PT) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_DIR / f"LiberationSerif-{STYLES[style]}.ttf"), px(points))


@dataclass
class Typesetter:
    """Places lines on A4 pages top to bottom and records the ground truth in reading order."""

    pages: list[Image.Image] = field(default_factory=list)
    truth: list[list[str]] = field(default_factory=list)
    y: int = 0

    def __post_init__(self) -> None:
        self.new_page()

    def new_page(self) -> None:
        self.pages.append(Image.new("L", PAGE, 255))
        self.truth.append([])
        self.y = TOP

    @property
    def draw(self) -> ImageDraw.ImageDraw:
        return ImageDraw.Draw(self.pages[-1])

    def ensure(self, height: int) -> None:
        if self.y + height > PAGE[1] - BOTTOM:
            self.new_page()

    def text_at(self, x: float, y: int, text: str, fnt, record: bool = True) -> None:
        self.draw.text((round(x), y), text, font=fnt, fill=0)
        if record:
            self.truth[-1].append(text)

    def centered(self, text: str, fnt, center: float, y: int, underline: float = 0) -> None:
        width = fnt.getlength(text)
        self.text_at(center - width / 2, y, text, fnt)
        if underline:
            line_y = y + round(fnt.size * 1.2)
            half = width * underline / 2
            self.draw.line([(center - half, line_y), (center + half, line_y)], fill=0, width=3)

    def paragraph(
        self,
        text: str,
        *,
        style: str = "",
        points: float = BODY_PT,
        indent: int = INDENT,
        align: str = "justify",
        space_after: int = 18,
    ) -> None:
        """Word-wrapped paragraph; justified lines except the last."""
        fnt = font(style, points)
        pitch = round(fnt.size * 1.32)
        width = PAGE[0] - LEFT - RIGHT
        lines = wrap(text, fnt, width - indent, width)
        for index, words in enumerate(lines):
            self.ensure(pitch)
            x0 = LEFT + (indent if index == 0 else 0)
            avail = width - (indent if index == 0 else 0)
            line = " ".join(words)
            if align == "center":
                self.centered(line, fnt, LEFT + width / 2, self.y)
            elif align == "justify" and index < len(lines) - 1 and len(words) > 1:
                gap = (avail - sum(fnt.getlength(w) for w in words)) / (len(words) - 1)
                x = float(x0)
                for word in words:
                    self.text_at(x, self.y, word, fnt, record=False)
                    x += fnt.getlength(word) + gap
                self.truth[-1].append(line)
            else:
                self.text_at(x0, self.y, line, fnt)
            self.y += pitch
        self.y += space_after

    def two_columns(
        self,
        left: list[tuple[str, str, float]],
        right: list[tuple[str, str, float]],
        left_center: float,
        right_center: float,
        *,
        align_left: str = "center",
        right_gap: int = 0,
    ) -> None:
        """Two blocks side by side (header, signature); ground truth: left block, then right."""
        pitch_left = [round(font(s, p).size * 1.25) for _, s, p in left]
        pitch_right = [round(font(s, p).size * 1.25) for _, s, p in right]
        self.ensure(max(sum(pitch_left), sum(pitch_right) + right_gap))
        y = self.y
        for (text, style, points), pitch in zip(left, pitch_left, strict=True):
            if align_left == "center":
                self.centered(text, font(style, points), left_center, y)
            else:
                self.text_at(left_center, y, text, font(style, points))
            y += pitch
        bottom = y
        y = self.y
        for index, ((text, style, points), pitch) in enumerate(
            zip(right, pitch_right, strict=True)
        ):
            if index == len(right) - 1 and right_gap:
                y += right_gap  # room for the signature
            self.centered(text, font(style, points), right_center, y)
            y += pitch
        self.y = max(bottom, y) + 30


def wrap(text: str, fnt, first_width: float, width: float) -> list[list[str]]:
    """Greedy word wrap; the first line is narrower by the indent."""
    lines: list[list[str]] = [[]]
    limit = first_width
    for word in text.split():
        candidate = " ".join([*lines[-1], word])
        if lines[-1] and fnt.getlength(candidate) > limit:
            lines.append([word])
            limit = width
        else:
            lines[-1].append(word)
    return lines


# ---- text of the excerpt ------------------------------------------------------------------------


def strip_markdown(line: str) -> str:
    line = re.sub(r"^#+\s*", "", line.strip())
    return re.sub(r"[*_]+", "", line).strip()


def seed_paragraphs(seed: Path) -> list[str]:
    """Paragraphs of the seed without markdown; a paragraph cut by a page break is rejoined."""
    paragraphs: list[str] = []
    for block in re.split(r"\n\s*\n", seed.read_text(encoding="utf-8")):
        text = " ".join(strip_markdown(line) for line in block.splitlines() if line.strip())
        if not text:
            continue
        if paragraphs and text[0].islower() and not paragraphs[-1].endswith((".", ";", ":")):
            paragraphs[-1] += " " + text
        else:
            paragraphs.append(text)
    return paragraphs


def excerpt(paragraphs: list[str]) -> dict:
    """The parts of the sample: number, date, title, subtitle, body paragraphs, closing."""

    def find(prefix: str) -> int:
        return next(i for i, p in enumerate(paragraphs) if p.startswith(prefix))

    start = find("Những năm gần đây")
    section_two = find("II. MỤC TIÊU")
    closing = find("Yêu cầu các sở")
    return {
        "number": paragraphs[find("Số:")],
        "date": paragraphs[find("Nghệ An, ngày")],
        "title": "KẾ HOẠCH",
        "subtitle": paragraphs[find("Thực hiện Nghị quyết")],
        "body": paragraphs[start : start + 6] + paragraphs[section_two : section_two + 7],
        "closing": paragraphs[closing],
    }


def typeset(parts: dict) -> Typesetter:
    """Lay the plan out in the standard administrative form."""
    ts = Typesetter()
    left_center, right_center = LEFT + 380, LEFT + 1270
    ts.y = TOP
    ts.two_columns(
        [("ỦY BAN NHÂN DÂN", "", 13), ("TỈNH NGHỆ AN", "b", 13)],
        [("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "b", 13), ("Độc lập - Tự do - Hạnh phúc", "b", 14)],
        left_center,
        right_center,
    )
    draw = ts.draw
    draw.line([(left_center - 110, ts.y - 22), (left_center + 110, ts.y - 22)], fill=0, width=3)
    draw.line([(right_center - 300, ts.y - 22), (right_center + 300, ts.y - 22)], fill=0, width=3)
    ts.y += 30
    ts.two_columns(
        [(parts["number"], "", 13)], [(parts["date"], "i", 14)], left_center, right_center
    )
    ts.y += 50
    ts.paragraph(parts["title"], style="b", points=14, indent=0, align="center", space_after=0)
    ts.paragraph(parts["subtitle"], style="b", points=14, indent=0, align="center", space_after=60)
    for text in parts["body"]:
        heading = len(text) < 90 and not text.endswith((".", ";"))
        ts.paragraph(text, style="b" if heading else "", indent=INDENT, space_after=18)
    ts.paragraph(parts["closing"])
    ts.y += 20
    recipients = [
        "- Thường trực Tỉnh ủy (để b/c);",
        "- Thường trực HĐND tỉnh (để b/c);",
        "- Chủ tịch, các PCT UBND tỉnh;",
        "- Các sở, ban, ngành cấp tỉnh;",
        "- UBND các xã, phường;",
        "- Lưu: VTUB, NC.",
    ]
    ts.two_columns(
        [("Nơi nhận:", "bi", 12)] + [(r, "", 11) for r in recipients],
        [
            ("TM. ỦY BAN NHÂN DÂN", "b", 13),
            ("KT. CHỦ TỊCH", "b", 13),
            ("PHÓ CHỦ TỊCH", "b", 13),
            ("Bùi Thanh An", "b", 14),
        ],
        LEFT,
        right_center + 60,
        align_left="left",
        right_gap=260,
    )
    return ts


# ---- scan ---------------------------------------------------------------------------------------


def scan(page: Image.Image, rng: random.Random) -> Image.Image:
    """Office-scan damage: a visible tilt, then corpus.render's level-1 blur, noise and JPEG."""
    angle = rng.choice([-1, 1]) * rng.uniform(0.5, 1.0)
    img = np.asarray(page)
    h, w = img.shape
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    img = cv2.warpAffine(img, matrix, (w, h), flags=cv2.INTER_LINEAR, borderValue=255)
    return degrade(Image.fromarray(img), 1, rng)


def write_pdf(pages: list[Image.Image], path: Path, quality: int = 45) -> None:
    """Image-only PDF, one JPEG per page at 300 DPI, written atomically."""
    jpegs = []
    for page in pages:
        buffer = io.BytesIO()
        page.save(buffer, format="JPEG", quality=quality, optimize=True)
        jpegs.append(Image.open(io.BytesIO(buffer.getvalue())))
    with atomic_path(path, suffix=".pdf") as tmp:
        jpegs[0].save(tmp, format="PDF", save_all=True, append_images=jpegs[1:], resolution=DPI)


def write_text(text: str, path: Path) -> None:
    atomic_write_text(path, text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed-file", type=Path, default=DEFAULT_SEED)
    parser.add_argument("--out", type=Path, default=REPO / "examples" / "kh-sample.pdf")
    parser.add_argument("--random-seed", type=int, default=20251123)
    args = parser.parse_args()
    if args.seed_file is None or not args.seed_file.exists():
        parser.error("seed text not found: pass --seed-file ../shared/seeds/002_*.txt")
    ts = typeset(excerpt(seed_paragraphs(args.seed_file)))
    rng = random.Random(args.random_seed)
    scans = [scan(page, rng) for page in ts.pages]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_pdf(scans, args.out)
    write_text(
        "\f".join("\n".join(lines) for lines in ts.truth) + "\n", args.out.with_suffix(".gt.txt")
    )
    size = args.out.stat().st_size
    print(f"{args.out}: {len(scans)} pages, {size / 1e6:.2f} MB; ground truth beside it")


if __name__ == "__main__":
    main()
