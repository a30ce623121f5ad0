"""The only real OCR pairs usable for training: seed 000 lines 1-370 with dev/000.gold.part1.txt."""

from __future__ import annotations

from pathlib import Path

from vanban.core.text import normalize

PART1_LINES = 370


def real_part1_pairs(shared: Path) -> list[tuple[str, str]]:
    """(noisy, clean) line pairs, normalized, in document order (empty lines kept as such)."""
    seed = next((shared / "seeds").glob("000_*.txt"))
    noisy = seed.read_text(encoding="utf-8").split("\n")[:PART1_LINES]
    clean = (
        (shared / "dev" / "000.gold.part1.txt")
        .read_text(encoding="utf-8")
        .split("\n")[:PART1_LINES]
    )
    if len(noisy) != PART1_LINES or len(clean) != PART1_LINES:
        raise ValueError(f"{seed}: expected {PART1_LINES} lines of part 1")
    return [
        (normalize(n).replace("\t", " "), normalize(c).replace("\t", " "))
        for n, c in zip(noisy, clean, strict=True)
    ]
