"""Render clean lines as printed A4 pages (300 DPI) and degrade them like office scans."""

from __future__ import annotations

import io
import random
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

DPI = 300
A4_SIZE = (2480, 3508)  # pixels at 300 DPI
FONTS = {
    "freeserif": "/usr/share/fonts/truetype/freefont/FreeSerif.ttf",
    "liberation": "/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf",
    "dejavu": "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf",
    "freeserif-bold": "/usr/share/fonts/truetype/freefont/FreeSerifBold.ttf",
    "liberation-bold": "/usr/share/fonts/truetype/liberation2/LiberationSerif-Bold.ttf",
    "dejavu-bold": "/usr/share/fonts/truetype/dejavu/DejaVuSerif-Bold.ttf",
}
FONT_WEIGHTS = {"freeserif": 0.45, "liberation": 0.35, "dejavu": 0.2}
LEVELS = (0, 1, 2, 3)


@dataclass(frozen=True)
class PageStyle:
    """How a page is printed and scanned."""

    font: str = "freeserif"
    size_pt: float = 13.0
    line_spacing: float = 1.45
    level: int = 1  # degradation: 0 clean print, 1 office scan, 2 poor scan, 3 faint/bleeding copy
    justify: bool = True

    @property
    def size_px(self) -> int:
        return round(self.size_pt * DPI / 72)


def random_style(rng: random.Random) -> PageStyle:
    """A random mix of the documents' fonts, sizes and scan qualities."""
    font = rng.choices(list(FONT_WEIGHTS), weights=list(FONT_WEIGHTS.values()))[0]
    return PageStyle(
        font=font,
        size_pt=rng.choice([12.0, 12.5, 13.0, 13.0, 13.0, 13.5, 14.0]),
        line_spacing=rng.uniform(1.3, 1.6),
        level=rng.choices(LEVELS, weights=[0.2, 0.4, 0.25, 0.15])[0],
        justify=rng.random() < 0.7,
    )


def heading_style(rng: random.Random) -> PageStyle:
    """A style for lines in capitals, as the documents print titles and headings: the body
    fonts, half of them bold."""
    style = random_style(rng)
    font = f"{style.font}-bold" if rng.random() < 0.5 else style.font
    return PageStyle(font, style.size_pt, style.line_spacing, style.level, justify=False)


@lru_cache(maxsize=32)
def load_font(name: str, size_px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(FONTS[name], size_px)


def lines_per_page(style: PageStyle, margin_top: int = 240) -> int:
    return max(1, int((A4_SIZE[1] - 2 * margin_top) / (style.size_px * style.line_spacing)))


def _draw_line(
    draw: ImageDraw.ImageDraw, x: int, y: int, text: str, font, target: float | None
) -> None:
    """Draw one line; spread the word gaps to `target` width when justifying."""
    words = text.split(" ")
    natural = font.getlength(text)
    if target is None or len(words) < 2 or natural >= target:
        draw.text((x, y), text, font=font, fill=0)
        return
    widths = [font.getlength(w) for w in words]
    gap = (target - sum(widths)) / (len(words) - 1)
    pos = float(x)
    for word, width in zip(words, widths, strict=True):
        draw.text((round(pos), y), word, font=font, fill=0)
        pos += width + gap


def _render_line_image(text: str, font, height: int, width: int) -> Image.Image:
    """A line too wide for the page, drawn alone and squeezed horizontally to `width`."""
    natural = int(font.getlength(text)) + 4
    strip = Image.new("L", (natural, height), 255)
    ImageDraw.Draw(strip).text((0, 0), text, font=font, fill=0)
    return strip.resize((width, height), Image.Resampling.LANCZOS)


def render_page(lines: list[str], style: PageStyle, rng: random.Random) -> Image.Image:
    """Print `lines` on a white A4 page (grayscale, 300 DPI); one source line per printed line."""
    page = Image.new("L", A4_SIZE, 255)
    draw = ImageDraw.Draw(page)
    font = load_font(style.font, style.size_px)
    left = rng.randint(200, 300)
    right = rng.randint(150, 230)
    text_width = A4_SIZE[0] - left - right
    step = style.size_px * style.line_spacing
    y = float(rng.randint(200, 280))
    for index, text in enumerate(lines):
        natural = font.getlength(text)
        if natural > text_width:
            strip = _render_line_image(text, font, int(style.size_px * 1.35), text_width)
            page.paste(strip, (left, round(y)))
        else:
            last = index + 1 == len(lines) or len(text) < 50
            target = (
                text_width if style.justify and not last and natural > 0.8 * text_width else None
            )
            _draw_line(draw, left, round(y), text, font, target)
        y += step
    return page


def degrade(page: Image.Image, level: int, rng: random.Random) -> Image.Image:
    """Scan-like damage: rotation, blur, ink bleed or fading, noise, resampling and JPEG."""
    if level <= 0:
        return _jpeg(page, rng.randint(75, 95))
    np_rng = np.random.default_rng(rng.getrandbits(32))
    img = np.asarray(page, dtype=np.uint8)
    angle = rng.uniform(-0.6, 0.6) * level / 2
    if abs(angle) > 0.05:
        h, w = img.shape
        matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
        img = cv2.warpAffine(img, matrix, (w, h), flags=cv2.INTER_LINEAR, borderValue=255)
    if level >= 2:
        scale = rng.uniform(0.5, 0.75)  # scanned at 150-225 DPI, upsampled back
        h, w = img.shape
        small = cv2.resize(img, (int(w * scale), int(h * scale)), interpolation=cv2.INTER_AREA)
        img = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    sigma = rng.uniform(0.5, 1.0) * level
    img = cv2.GaussianBlur(img, (0, 0), sigmaX=sigma)
    if level >= 3:
        kernel = np.ones((2, 2), np.uint8)
        img = cv2.erode(img, kernel) if rng.random() < 0.5 else cv2.dilate(img, kernel)
        if rng.random() < 0.5:  # faint copy: lift the ink
            img = (255 - (255 - img.astype(np.float32)) * rng.uniform(0.5, 0.75)).astype(np.uint8)
    noise = np_rng.normal(0, 5 * level, img.shape)
    img = np.clip(img.astype(np.float32) + noise, 0, 255).astype(np.uint8)
    if level >= 3:
        specks = np_rng.random(img.shape) < 0.0001
        img[specks] = 0
    return _jpeg(Image.fromarray(img), rng.randint(30, 70) if level >= 2 else rng.randint(50, 85))


def _jpeg(img: Image.Image, quality: int) -> Image.Image:
    buffer = io.BytesIO()
    img.save(buffer, format="JPEG", quality=quality)
    buffer.seek(0)
    return Image.open(buffer).convert("L")
