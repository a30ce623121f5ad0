"""Build the shipped syllable inventory and channel model in `models/lexicon/`.

    .venv/bin/python scripts/build_lexicon.py [--shared ../shared] [--max-lines 3000000]
    .venv/bin/python scripts/build_lexicon.py --channel-only   # re-learn channel.json only

Valid syllables come from the word lists in `corpus/lexicon/` and from counts over the corpus;
non-syllable tokens (abbreviations: ubnd, hđnd, nq, cp, tw ...) are kept when frequent in the
administrative and legal texts (the Wikipedia part would bring foreign words).
"""

from __future__ import annotations

import argparse
import gzip
import sys
from collections import Counter
from itertools import islice
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vanban.corpus.true_channel import printed_in_capitals  # noqa: E402
from vanban.restore.decoder.channel import (  # noqa: E402
    CHANNEL_PATH,
    DEFAULT_WEIGHTS,
    ChannelModel,
    MixtureChannel,
    token_pairs,
)
from vanban.restore.decoder.lexicon import (  # noqa: E402
    INVENTORY_PATH,
    count_tokens,
    save_inventory,
    select_inventory,
    word_list_tokens,
)

from vanban.core.files import data_dir  # noqa: E402
from vanban.core.text import is_valid_syllable  # noqa: E402

DOMAIN_FILES = ("vn-admin-congbao.txt.gz", "vn-legal-phapdien.txt.gz")
GENERAL_FILES = ("vn-general-viwiki.txt.gz",)
TRUSTED_LIST = "hunspell-vi-syllables.txt"  # curated syllables + common abbreviations (UBND, HĐND)
WORD_LISTS = ("tesseract-vie-words.txt", "underthesea-Viet74K.txt")
SEED = "seeds/000_33b23e2610885f83.txt"
GOLD_PART1 = "dev/000.gold.part1.txt"  # lines 1-370: the only real pairs allowed for training
# Real scans carry Đ->P, l->1, ứng->tmg, which rendering does not reproduce: the real pairs are
# counted several times, so that they make REAL_SHARE of the eng channel's token pairs (the share
# they had when the channel was first tuned: 3 x 4,294 pairs against 100 k rendered ones).
REAL_SHARE = 0.114
MAX_TRUE_PAIRS = 60_000  # lines read per true-channel pair file


def read_gz(path: Path, limit: int):
    with gzip.open(path, "rt", encoding="utf-8", errors="replace") as f:
        yield from islice(f, limit)


def word_list_words(lexicon_dir: Path):
    for name in (TRUSTED_LIST, *WORD_LISTS):
        yield from (lexicon_dir / name).read_text(encoding="utf-8").splitlines()
    for line in (lexicon_dir / "wordfreq-vi.tsv").read_text(encoding="utf-8").splitlines():
        yield line.split("\t")[0]


def real_pairs(shared: Path) -> list[tuple[str, str]]:
    """Token pairs from seed 000 lines 1-370 and their gold (never part 2)."""
    gold = (shared / GOLD_PART1).read_text(encoding="utf-8").rstrip("\n").split("\n")
    seed = (shared / SEED).read_text(encoding="utf-8").split("\n")[: len(gold)]
    return token_pairs(seed, gold)


def tsv_pairs(path: Path, limit: int) -> list[tuple[str, str]]:
    """Token pairs from a `noisy<TAB>clean` file."""
    noisy, clean = [], []
    with path.open(encoding="utf-8") as f:
        for line in islice(f, limit):
            parts = line.rstrip("\n").split("\t")
            if len(parts) >= 2:
                noisy.append(parts[0])
                clean.append(parts[1])
    return token_pairs(noisy, clean)


def true_channel_files(data: Path, lang: str, capitals: bool = False) -> list[Path]:
    """The corpus helper's true-channel pairs of training documents, every run (never the eval
    split); the line-level files, since `token_pairs` aligns lines that are not chunk-aligned.
    With `capitals`, the runs printed in capitals (`render_true_channel.py` plan item
    LANG:train:N:caps)."""
    runs = sorted(
        p
        for p in (data / "true").glob(f"{lang}.train.*.tsv*")
        if ".test." not in p.name and printed_in_capitals(p) == capitals
    )
    merged = data / "pairs" / f"true_{lang}.tsv"
    return runs or ([merged] if merged.exists() and not capitals else [])


def build_channel(shared: Path, data: Path, out: Path) -> None:
    """eng = real part-1 pairs (weighted) + true-channel eng pairs; vie = true-channel vie pairs;
    eng_caps / vie_caps = the true-channel pairs of lines printed in capitals (titles, headings)."""
    channels = {"eng": ChannelModel(), "vie": ChannelModel()}
    files = {lang: true_channel_files(data, lang) for lang in channels}
    for lang in ("eng", "vie"):
        if caps := true_channel_files(data, lang, capitals=True):
            channels[f"{lang}_caps"] = ChannelModel()
            files[f"{lang}_caps"] = caps
    pairs = {
        lang: [tsv_pairs(path, MAX_TRUE_PAIRS) for path in paths] for lang, paths in files.items()
    }
    real = real_pairs(shared)
    rendered = sum(map(len, pairs["eng"]))
    weight = max(1, round(REAL_SHARE / (1 - REAL_SHARE) * rendered / len(real)))
    print(f"{len(real):,} real token pairs x {weight} -> eng", file=sys.stderr)
    ChannelModel.fit(real, weight=weight, into=channels["eng"])
    for lang, model in channels.items():
        for path, found in zip(files[lang], pairs[lang], strict=True):
            print(f"{path}: {len(found):,} token pairs -> {lang}", file=sys.stderr)
            ChannelModel.fit(found, into=model)
    MixtureChannel(channels, DEFAULT_WEIGHTS).save(out)
    sizes = {k: len(m.block_counts) for k, m in channels.items()}
    print(f"{out}: block sources per channel {sizes}", file=sys.stderr)


def build_inventory(corpus: Path, max_lines: int, out: Path) -> None:
    domain: Counter[str] = Counter()
    for name in DOMAIN_FILES:
        domain.update(count_tokens(read_gz(corpus / name, max_lines)))
        print(f"{name}: {sum(domain.values()):,} tokens so far", file=sys.stderr)
    general: Counter[str] = Counter()
    for name in GENERAL_FILES:
        general.update(count_tokens(read_gz(corpus / name, max_lines)))
        print(f"{name}: {sum(general.values()):,} tokens", file=sys.stderr)
    # Syllables count over everything; other tokens only over the domain texts.
    counts = domain.copy()
    counts.update({t: n for t, n in general.items() if is_valid_syllable(t)})
    lexicon = corpus / "lexicon"
    trusted = word_list_tokens(
        (lexicon / TRUSTED_LIST).read_text(encoding="utf-8").splitlines(), syllables_only=False
    )
    listed = word_list_tokens(word_list_words(lexicon))
    inventory = select_inventory(counts, trusted, listed)
    save_inventory(inventory, out)
    n_syl = sum(1 for t in inventory if is_valid_syllable(t))
    print(f"{out}: {len(inventory)} tokens ({n_syl} syllables)", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    default_shared = Path(__file__).resolve().parents[2] / "shared"
    parser.add_argument("--shared", type=Path, default=default_shared)
    parser.add_argument("--max-lines", type=int, default=3_000_000, help="lines per corpus file")
    parser.add_argument(
        "--data",
        type=Path,
        default=data_dir(),
        help="where the true-channel pairs are (pairs/true_{eng,vie}.tsv)",
    )
    parser.add_argument("--channel-only", action="store_true")
    parser.add_argument("--out-dir", type=Path, default=INVENTORY_PATH.parent)
    args = parser.parse_args(argv)
    corpus = args.shared / "corpus"
    if not corpus.is_dir():
        print(f"{corpus}: corpus folder not found", file=sys.stderr)
        return 1
    if not args.channel_only:
        build_inventory(corpus, args.max_lines, args.out_dir / INVENTORY_PATH.name)
    build_channel(args.shared, args.data, args.out_dir / CHANNEL_PATH.name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
