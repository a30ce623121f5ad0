"""Copy a training checkpoint into a shippable model folder: fp16 safetensors, vocab, confusions.

    python scripts/export_restorer.py $VANBAN_DATA/ckpt/phaseD models/restorer \
        --confusions $VANBAN_DATA/lead/confusions.tsv --lm $VANBAN_DATA/ngram4w/lm.npz \
        --nn-weight 0.5 --lm-weight 1.0 --discounts 0.75,0.8,0.9 --cache-weight 0.3

With --lm the folder gets `lm.npz` and `decoding.json`: `restore.load_restorer` then decodes with
`restore.hybrid.HybridRestorer` (beam search over network + n-gram LM + channel scores).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vanban.restore.config import DecodingConfig  # noqa: E402
from vanban.restore.decoder.lm import NgramLM  # noqa: E402
from vanban.restore.training.model import RestorerModel  # noqa: E402

from vanban.core.files import atomic_directory  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("checkpoint", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--confusions", type=Path)
    ap.add_argument("--lm", type=Path, help="n-gram LM file (restore.decoder.lm), named lm.npz")
    defaults = DecodingConfig()  # every other setting of decoding.json keeps its default
    ap.add_argument("--nn-weight", type=float, default=defaults.nn_weight,
                    help="weight of log p_network")  # fmt: skip
    ap.add_argument("--vie-nn-weight", type=float, default=defaults.profile_nn_weight["vie"],
                    help="weight of log p_network in fresh vie OCR")  # fmt: skip
    ap.add_argument("--lm-weight", type=float, default=defaults.lm_weight,
                    help="weight of the LM log score")  # fmt: skip
    ap.add_argument("--channel-weight", type=float, default=defaults.channel_weight)
    ap.add_argument("--beam", type=int, default=defaults.beam)
    ap.add_argument("--backoff", type=float, default=defaults.backoff,
                    help="stupid backoff factor")  # fmt: skip
    ap.add_argument("--cache-weight", type=float, default=defaults.cache_weight,
                    help="weight of the document-vocabulary prior")  # fmt: skip
    ap.add_argument("--discounts", default=",".join(map(str, defaults.discounts)),
                    help="interpolated absolute discounting per order from bigrams up "
                         "('' = stupid backoff)")  # fmt: skip
    args = ap.parse_args()
    model = RestorerModel.from_pretrained(args.checkpoint, dtype=torch.float32).half()
    with atomic_directory(args.out) as tmp:
        write_model_folder(args, model, tmp)
    size = sum(f.stat().st_size for f in args.out.iterdir()) / 2**20
    print(f"exported {args.checkpoint} -> {args.out} ({size:.1f} MB)")


def write_model_folder(args: argparse.Namespace, model: RestorerModel, tmp: Path) -> None:
    """The shippable folder's files, in `tmp`."""
    defaults = DecodingConfig()
    model.save_pretrained(tmp, safe_serialization=True)
    shutil.copy(args.checkpoint / "vocab.txt", tmp / "vocab.txt")
    if args.confusions:
        shutil.copy(args.confusions, tmp / "confusions.tsv")
    if args.lm:
        NgramLM.load(args.lm.parent).save(tmp)  # uint32 counts, compressed
        settings = {"decoder": defaults.decoder, "nn_weight": args.nn_weight,
                    "lm_weight": args.lm_weight, "channel_weight": args.channel_weight,
                    "beam": args.beam, "candidates": defaults.candidates,
                    "backoff": args.backoff, "cache_weight": args.cache_weight,
                    "profile_nn_weight": {"vie": args.vie_nn_weight}}  # fmt: skip
        if not args.discounts:
            settings["lm_smoothing"] = "stupid-backoff"
        else:
            settings |= {"lm_smoothing": "absolute-discounting",
                         "discounts": [float(d) for d in args.discounts.split(",")]}  # fmt: skip
        (tmp / "decoding.json").write_text(json.dumps(settings) + "\n", encoding="utf-8")
    for keep in ("README.md",):
        if (args.out / keep).exists():
            shutil.copy(args.out / keep, tmp / keep)


if __name__ == "__main__":
    main()
