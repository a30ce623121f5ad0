"""Train the diacritic restorer (restore.training.model.RestorerModel) on noisy/clean line pairs,
on CPU.

Pairs are TSV rows `noisy<TAB>clean`. `--pairs` files are independent lines (no context);
`--ordered` files keep document order (an empty row ends a document), so each line is trained
with its neighbouring lines as context. Each source takes a weight: `FILE:WEIGHT`.

Example (the shipped model's commands are in models/restorer/README.md):
    python scripts/train_restore.py --ordered $VANBAN_DATA/pairs/ordered.tsv:3 \
        --pairs $VANBAN_DATA/pairs/train.tsv:1 --vocab-lines $VANBAN_DATA/clean/train.txt \
        --ckpt $VANBAN_DATA/ckpt/base --out models/restorer --minutes 60
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vanban.restore.network.batching import Example, make_batch  # noqa: E402
from vanban.restore.network.vocab import IGNORE, OutputVocab  # noqa: E402
from vanban.restore.training.model import RestorerConfig, RestorerModel  # noqa: E402

from vanban.core.files import atomic_directory, atomic_open  # noqa: E402
from vanban.core.text import normalize, split_chunks  # noqa: E402


def read_documents(path: Path, ordered: bool, limit: int | None) -> list[list[tuple[str, str]]]:
    """Read pair rows; ordered files split into documents at empty rows."""
    docs: list[list[tuple[str, str]]] = [[]]
    with path.open(encoding="utf-8") as fh:
        for n, row in enumerate(fh):
            if limit and n >= limit:
                break
            row = row.rstrip("\n")
            if not row.strip():
                if docs[-1]:
                    docs.append([])
                continue
            noisy, _, clean = row.partition("\t")
            docs[-1].append((noisy, normalize(clean)))
            if not ordered:
                docs.append([])
    return [d for d in docs if d]


def make_examples(docs, vocab: OutputVocab) -> list[Example]:
    """Chunk-aligned examples with targets; lines whose chunk counts differ are skipped."""
    out = []
    for doc in docs:
        chunked = [(split_chunks(noisy), split_chunks(clean)) for noisy, clean in doc]
        for i, (noisy, clean) in enumerate(chunked):
            if len(noisy) != len(clean) or not noisy:
                continue
            targets = [vocab.target(a.core, b.core) for a, b in zip(noisy, clean, strict=True)]
            if all(t == IGNORE for t in targets):
                continue
            before = chunked[i - 1][0] if i > 0 else []
            after = chunked[i + 1][0] if i + 1 < len(chunked) else []
            out.append(Example(noisy, before, after, targets))
    return out


def parse_source(spec: str) -> tuple[Path, float]:
    path, _, weight = spec.rpartition(":") if ":" in spec else (spec, "", "1")
    return Path(path), float(weight or 1)


def load_sources(args, vocab: OutputVocab):
    sources = []
    for specs, ordered in ((args.ordered, True), (args.pairs, False)):
        for spec in specs:
            path, weight = parse_source(spec)
            examples = make_examples(read_documents(path, ordered, args.max_lines), vocab)
            print(
                f"source {path} ({'ordered' if ordered else 'pairs'}): {len(examples)} lines, "
                f"weight {weight}",
                flush=True,
            )
            if examples:
                sources.append((examples, weight))
    return sources


def build_or_load(args) -> tuple[RestorerModel, OutputVocab, dict]:
    """Resume from --ckpt, start from --init, or build a fresh model and vocabulary."""
    ckpt = Path(args.ckpt)
    state = {"step": 0}
    if (ckpt / "config.json").exists():
        model = RestorerModel.from_pretrained(ckpt, dtype=torch.float32)
        vocab = OutputVocab.load(ckpt / "vocab.txt")
        state = json.loads((ckpt / "trainer_state.json").read_text())
        print(f"resumed from {ckpt} at step {state['step']}", flush=True)
        return model, vocab, state
    if args.init:
        model = RestorerModel.from_pretrained(args.init, dtype=torch.float32)
        return model, OutputVocab.load(Path(args.init) / "vocab.txt"), state
    if args.vocab:
        vocab = OutputVocab.load(Path(args.vocab))
    else:
        with open(args.vocab_lines, encoding="utf-8") as fh:
            lines = [normalize(ln) for _, ln in zip(range(args.vocab_max_lines), fh, strict=False)]
        vocab = OutputVocab.build(lines, size=args.vocab_size)
        ckpt.mkdir(parents=True, exist_ok=True)
        vocab.save(ckpt / "vocab.txt")
    config = RestorerConfig(
        vocab_size=len(vocab), d_model=args.d_model, n_buckets=args.buckets,
        encoder_layers=args.enc_layers, decoder_layers=args.dec_layers,
        encoder_attention_heads=args.heads, decoder_attention_heads=args.heads,
        encoder_ffn_dim=args.d_model * 4, decoder_ffn_dim=args.d_model * 4,
        dropout=args.dropout, context_chunks=args.context,
        attention_dropout=0.0, activation_dropout=0.0,
        pad_token_id=0, bos_token_id=1, eos_token_id=1, decoder_start_token_id=1,
    )  # fmt: skip
    return RestorerModel(config), vocab, state


def save(
    model: RestorerModel, vocab: OutputVocab, directory: Path, state: dict, half: bool
) -> None:
    """Write config, safetensors weights, vocabulary and trainer state (a temporary folder
    swapped in for the old one)."""
    directory.parent.mkdir(parents=True, exist_ok=True)
    to_save = RestorerModel(model.config)
    to_save.load_state_dict(model.state_dict())
    if half:
        to_save = to_save.half()
    with atomic_directory(directory) as tmp:
        to_save.save_pretrained(tmp, safe_serialization=True)
        vocab.save(tmp / "vocab.txt")
        (tmp / "trainer_state.json").write_text(json.dumps(state, indent=1))


def evaluate(model, examples, config, batch_size=128) -> float:
    """Chunk accuracy (teacher-forced argmax) on held-out examples."""
    model.eval()
    right = total = 0
    with torch.no_grad():
        for i in range(0, len(examples), batch_size):
            batch = make_batch(
                examples[i : i + batch_size], config.n_buckets, config.context_chunks
            )
            labels = batch.pop("labels")
            logits = model(**batch)
            mask = labels != IGNORE
            right += int(((logits.argmax(-1) == labels) & mask).sum())
            total += int(mask.sum())
    model.train()
    return right / max(total, 1)


def _warmup_linear(opt, args, start_step):
    """Warm up over `--warmup` steps, then decay linearly to 5% at `--steps`."""
    return torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + start_step + 1) / args.warmup)
        * max(0.05, 1 - (s + start_step) / args.steps),
    )  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--pairs", nargs="*", default=[])
    ap.add_argument("--ordered", nargs="*", default=[])
    ap.add_argument("--valid", help="held-out pairs TSV (ordered) for chunk accuracy")
    ap.add_argument("--vocab", help="output vocabulary file (one token a line) to use")
    ap.add_argument("--vocab-lines", help="clean lines to build the output vocabulary from")
    ap.add_argument("--vocab-max-lines", type=int, default=2_000_000)
    ap.add_argument("--vocab-size", type=int, default=12000)
    ap.add_argument("--init", help="start from this model folder (fine-tuning)")
    ap.add_argument("--ckpt", required=True, help="checkpoint folder (resumed if present)")
    ap.add_argument("--out", help="final model folder (fp16 safetensors)")
    ap.add_argument("--max-lines", type=int, default=None, help="rows read per source")
    ap.add_argument("--steps", type=int, default=100000)
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument(
        "--stop-at", type=int, help="stop at this step (the LR still decays to --steps)"
    )
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--warmup", type=int, default=500)
    ap.add_argument("--anneal", type=int, default=0, help="decay the LR to 5%% over N steps")
    ap.add_argument("--d-model", type=int, default=256)
    ap.add_argument("--enc-layers", type=int, default=3)
    ap.add_argument("--dec-layers", type=int, default=2)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--context", type=int, default=4, help="chunks of each neighbouring line")
    ap.add_argument("--bf16", action="store_true", help="bfloat16 autocast (faster on AVX512-BF16)")
    ap.add_argument("--buckets", type=int, default=32768)
    ap.add_argument("--dropout", type=float, default=0.1)
    ap.add_argument("--save-every", type=int, default=500)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=13)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    random.seed(args.seed)
    torch.manual_seed(args.seed)
    model, vocab, state = build_or_load(args)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"model: {n_params / 1e6:.1f}M parameters, vocab {len(vocab)}", flush=True)
    sources = load_sources(args, vocab)
    valid = []
    if args.valid:
        valid = make_examples(read_documents(Path(args.valid), True, None), vocab)[:2000]
    weights = [w for _, w in sources]
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    if (Path(args.ckpt) / "optimizer.pt").exists():
        opt.load_state_dict(torch.load(Path(args.ckpt) / "optimizer.pt"))
    start_step = state["step"]
    if args.anneal:  # final phase: decay linearly to 5% over this run's steps
        for group in opt.param_groups:
            group["initial_lr"] = args.lr
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: max(0.05, 1 - s / args.anneal))
    else:
        sched = _warmup_linear(opt, args, start_step)
    loss_fn = torch.nn.CrossEntropyLoss(ignore_index=IGNORE)
    model.train()
    t0, seen, running = time.time(), 0, 0.0
    step = start_step
    last = min(args.steps, args.stop_at or args.steps)
    while step < last and (time.time() - t0) < args.minutes * 60:
        examples, _ = random.choices(sources, weights)[0]
        batch = make_batch(
            random.sample(examples, min(args.batch, len(examples))),
            model.config.n_buckets,
            model.config.context_chunks,
        )
        labels = batch.pop("labels")
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
            logits = model(**batch)
        loss = loss_fn(logits.float().reshape(-1, logits.size(-1)), labels.reshape(-1))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        step += 1
        seen += len(labels)
        running = 0.98 * running + 0.02 * loss.item() if step > start_step + 1 else float(loss)
        if step % 50 == 0:
            rate = seen / (time.time() - t0)
            print(
                f"step {step} loss {running:.4f} lr {sched.get_last_lr()[0]:.2e} "
                f"{rate:.0f} lines/s",
                flush=True,
            )
        if step % args.save_every == 0:
            _checkpoint(model, vocab, opt, args, step, valid)
    _checkpoint(model, vocab, opt, args, step, valid)
    if args.out:
        save(model, vocab, Path(args.out), {"step": step}, half=True)
        print(f"saved {args.out}", flush=True)


def _checkpoint(model, vocab, opt, args, step, valid) -> None:
    state = {"step": step}
    if valid:
        state["valid_chunk_accuracy"] = evaluate(model, valid, model.config)
        print(f"step {step} valid chunk accuracy {state['valid_chunk_accuracy']:.4f}", flush=True)
    save(model, vocab, Path(args.ckpt), state, half=False)
    with atomic_open(Path(args.ckpt) / "optimizer.pt", "wb") as handle:
        torch.save(opt.state_dict(), handle)


if __name__ == "__main__":
    main()
