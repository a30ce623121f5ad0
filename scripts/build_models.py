"""Rebuild the shipped models (`models/restorer`, `models/lexicon`) from the corpus, in order.

    .venv/bin/python scripts/build_models.py [--corpus ../shared/corpus] [--data $VANBAN_DATA]
        [--models models] [--jobs 2] [--dry-run] [--from-step NAME] [--only NAME ...] [--force]

Runs the build scripts one after another, as the model card's "Training commands" give them
(models/restorer/README.md). The seeds and the dev part-1 pairs are read beside the corpus
(`<corpus>/../seeds`, `<corpus>/../dev`); data and work files go to --data (default $VANBAN_DATA,
else ./work_data); the models to --models (default: this repository's models/, as shipped).

A step is skipped when all its outputs exist and none is older than its inputs (a killed run thus
resumes at the step it was in; training steps also resume inside their checkpoint), unless --force.
--dry-run lists every step with its command and whether it would run. The whole build takes about
4 h on 2 cores: 2.5 h of training, 1 h of rendering and OCR of pages, the rest minutes.

Where the card names files that no script writes, the driver makes them from what the scripts do
write: the ordered accent-stripped pairs with make_ordered_pairs.py --mix strip:1; the part-1
pairs in document order are pairs/real_part1.tsv; the vocabulary lines are clean/train.txt. The
true-channel runs r1 and r2 (eng 13.2 k, vie 3.7 k train lines) are rendered as one run, so their
pairs are one file per language and their weights add up (true_eng 1.5 + true_r2_eng 1 = 2.5).
Pages of valid and test documents (tuning and evaluation sets) are not rendered: no model reads
them; `docs/BENCHMARKS.md` gives their render_true_channel.py plans.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CLEAN_TRAIN = "{data}/clean/train.txt"
sys.path.insert(0, str(REPO))

from vanban.core.files import data_dir  # noqa: E402


@dataclass(frozen=True)
class Step:
    """One build step: a script with its arguments (or a function), what it reads and writes.

    Arguments, inputs and outputs may hold {data}, {shared}, {corpus}, {models} and {jobs}.
    """

    name: str
    what: str
    script: str | None
    args: tuple[str, ...] = ()
    inputs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    train_steps: int = 0  # a training step is done when its checkpoint reached this step
    action: Callable[[dict[str, str]], None] | None = field(default=None, compare=False)


def copy_checkpoint(places: dict[str, str]) -> None:
    """Phase D starts from a copy of the base checkpoint."""
    target = Path(places["data"]) / "ckpt" / "phaseD"
    shutil.rmtree(target, ignore_errors=True)
    base = Path(places["data"]) / "ckpt" / "base"
    shutil.copytree(base, target, copy_function=shutil.copy)  # new mtimes: newer than base


def training(name: str, what: str, ckpt: str, stop_at: int, *args: str, inputs=()) -> Step:
    """A train_restore.py phase that ends at step `stop_at` (its --steps sets the LR schedule)."""
    state = f"{{data}}/ckpt/{ckpt}/trainer_state.json"
    return Step(
        name, what, "train_restore.py",
        (*args, "--ckpt", f"{{data}}/ckpt/{ckpt}", "--stop-at", str(stop_at), "--minutes", "600",
         "--bf16"),
        inputs=tuple(inputs), outputs=(state,), train_steps=stop_at,
    )  # fmt: skip


def rendering(name: str, what: str, run: str, *items: str) -> Step:
    """A render_true_channel.py run; it writes {data}/true/LANG.KIND.RUN.tsv per plan item."""
    outputs = []
    for item in items:
        lang, split, _lines, *mode = item.split(":")
        outputs.append(f"{{data}}/true/{lang}.{'.'.join([split, *mode])}.{run}.tsv")
    return Step(
        name, what, "render_true_channel.py",
        ("--plan", ",".join(items), "--run", run, "--jobs", "{jobs}", "--clean", "{data}/clean",
         "--out", "{data}/true"),
        inputs=(CLEAN_TRAIN,), outputs=tuple(outputs),
    )  # fmt: skip


PAIRS = "{data}/pairs"
ORDERED, STRIP_ORDERED = f"{PAIRS}/ordered.tsv", f"{PAIRS}/strip_ordered.tsv"
REAL, TRUE_ENG, TRUE_VIE = (
    f"{PAIRS}/real_part1.tsv",
    f"{PAIRS}/true_eng.tsv",
    f"{PAIRS}/true_vie.tsv",
)

STEPS: tuple[Step, ...] = (
    Step("clean", "clean text of the corpus, split by document", "build_clean_corpus.py",
         ("--shared", "{shared}", "--out", "{data}/clean", "--jobs", "{jobs}"),
         inputs=("{corpus}",),
         outputs=(CLEAN_TRAIN, "{data}/clean/valid.txt", "{data}/clean/test.txt")),
    Step("clean-lm", "clean text for the LM: every Wikipedia document", "build_clean_corpus.py",
         ("--shared", "{shared}", "--out", "{data}/clean_lm", "--jobs", "{jobs}",
          "--wiki-share", "1.0"),
         inputs=("{corpus}",), outputs=("{data}/clean_lm/train.txt",)),
    rendering("render", "true-channel pairs: train pages printed, degraded, OCR'd (r1 + r2)",
              "r1", "eng:train:13300", "vie:train:3700"),
    Step("fit-channel", "the statistical noise channels that corrupt clean text",
         "corpus_fit_channel.py",
         ("--true-dir", "{data}/true", "--shared", "{shared}", "--out", "{data}"),
         inputs=("{data}/true/eng.train.r1.tsv", "{data}/true/vie.train.r1.tsv"),
         outputs=("{data}/channel.json", "{data}/channel_vie.json")),
    Step("pairs", "real part-1 pairs, true-channel pairs, evaluation pairs", "build_pairs.py",
         ("--data", "{data}", "--shared", "{shared}", "--jobs", "{jobs}", "--no-train"),
         inputs=("{data}/true/eng.train.r1.tsv", "{data}/true/vie.train.r1.tsv",
                 "{data}/clean/test.txt"),
         outputs=(REAL, TRUE_ENG, TRUE_VIE)),
    Step("ordered", "400 k lines in document order: eng channel, stripped, vie-like",
         "make_ordered_pairs.py",
         ("--clean", CLEAN_TRAIN, "--channel", "{data}/channel.json", "--out", ORDERED,
          "--lines", "400000"),
         inputs=(CLEAN_TRAIN, "{data}/channel.json"), outputs=(ORDERED,)),
    Step("strip-ordered", "400 k lines in document order, marks stripped",
         "make_ordered_pairs.py",
         ("--clean", CLEAN_TRAIN, "--channel", "{data}/channel.json", "--out", STRIP_ORDERED,
          "--lines", "400000", "--mix", "strip:1"),
         inputs=(CLEAN_TRAIN, "{data}/channel.json"), outputs=(STRIP_ORDERED,)),
    training("train-a", "network phase A: vocabulary, stripped + real part 1 (~45 min)", "base",
             1200, "--steps", "40000", "--ordered", f"{STRIP_ORDERED}:4", f"{REAL}:1",
             "--vocab-lines", CLEAN_TRAIN, "--vocab-max-lines", "800000", "--enc-layers", "2",
             "--dec-layers", "2", "--context", "4", "--warmup", "300", "--save-every", "300",
             "--max-lines", "120000",
             inputs=(STRIP_ORDERED, REAL, CLEAN_TRAIN)),
    training("train-b", "network phase B: the channels (~35 min)", "base", 2700,
             "--steps", "40000", "--ordered", f"{ORDERED}:6", f"{REAL}:0.5",
             "--pairs", f"{TRUE_ENG}:2.5", f"{TRUE_VIE}:0.6", "--max-lines", "250000",
             inputs=(ORDERED, REAL, TRUE_ENG, TRUE_VIE)),
    training("train-c", "network phase C: anneal (~14 min)", "base", 3400,
             "--steps", "3400", "--ordered", f"{ORDERED}:4", f"{REAL}:0.8",
             "--pairs", f"{TRUE_ENG}:2.5", f"{TRUE_VIE}:0.8", "--anneal", "700",
             "--max-lines", "150000",
             inputs=(ORDERED, REAL, TRUE_ENG, TRUE_VIE)),
    Step("copy-base", "phase D starts from a copy of the base checkpoint", None,
         inputs=("{data}/ckpt/base/trainer_state.json",),
         outputs=("{data}/ckpt/phaseD/config.json",), action=copy_checkpoint),
    training("train-d", "network phase D: 5,000 more steps, linear decay (~57 min)", "phaseD",
             8400, "--steps", "8400", "--ordered", f"{ORDERED}:4", f"{REAL}:0.8",
             f"{STRIP_ORDERED}:1",
             "--pairs", f"{TRUE_ENG}:2.5", f"{TRUE_VIE}:0.8", "--anneal", "5000",
             "--lr", "6e-4", "--threads", "1", "--save-every", "250", "--max-lines", "400000",
             inputs=("{data}/ckpt/phaseD/config.json",)),
    rendering("render-caps", "true-channel pairs of pages printed in capitals (c1 + c2)",
              "c1", "vie:train:4000:caps", "eng:train:3500:caps"),
    Step("lexicon", "syllable inventory and the learned OCR channel", "build_lexicon.py",
         ("--shared", "{shared}", "--data", "{data}", "--out-dir", "{models}/lexicon"),
         inputs=("{corpus}", "{data}/true/eng.train.r1.tsv", "{data}/true/vie.train.r1.tsv",
                 "{data}/true/vie.train.caps.c1.tsv", "{data}/true/eng.train.caps.c1.tsv"),
         outputs=("{models}/lexicon/syllables.tsv", "{models}/lexicon/channel.json")),
    Step("lm", "the 4-gram LM: every trigram, 4-grams seen twice", "eval_restore.py",
         ("--train-ngram", "--ngram-order", "4", "--ngram-min-count", "1,2",
          "--ngram-text", "{data}/clean_lm/train.txt", "--ngram-dir", "{data}/ngram4w"),
         inputs=("{data}/clean_lm/train.txt",), outputs=("{data}/ngram4w/lm.npz",)),
    Step("digit-misreads", "digits eng OCR prints for syllables (real pairs count twice)",
         "build_digit_misreads.py",
         ("--pairs", REAL, REAL, TRUE_ENG, "--out", "{models}/lexicon/digit_misreads.tsv"),
         inputs=(REAL, TRUE_ENG), outputs=("{models}/lexicon/digit_misreads.tsv",)),
    Step("code-segments", "code abbreviations that lose their Đ", "build_code_segments.py",
         ("--clean", CLEAN_TRAIN, "--out", "{models}/lexicon/code_segments.tsv"),
         inputs=(CLEAN_TRAIN,), outputs=("{models}/lexicon/code_segments.tsv",)),
    Step("code-parts", "letter parts of document codes (QĐ, UBND ...) in train documents",
         "build_code_parts.py",
         ("--shared", "{shared}", "--out", "{models}/lexicon/code_parts.tsv"),
         inputs=("{corpus}",), outputs=("{models}/lexicon/code_parts.tsv",)),
    Step("confusions", "OCR readings the network's candidate mask learns", "build_confusions.py",
         ("--vocab", "{data}/ckpt/base/vocab.txt", "--pairs", f"{REAL}:1", f"{TRUE_ENG}:2",
          f"{TRUE_VIE}:2", "--out", "{data}/confusions.tsv"),
         inputs=("{data}/ckpt/base/trainer_state.json", REAL, TRUE_ENG, TRUE_VIE),
         outputs=("{data}/confusions.tsv",)),
    Step("export", "the shippable restorer folder: fp16 network, LM, decoder settings",
         "export_restorer.py",
         ("{data}/ckpt/phaseD", "{models}/restorer", "--confusions", "{data}/confusions.tsv",
          "--lm", "{data}/ngram4w/lm.npz", "--nn-weight", "0.5", "--lm-weight", "1.0",
          "--discounts", "0.75,0.8,0.9", "--cache-weight", "0.3", "--vie-nn-weight", "0.25"),
         inputs=("{data}/ckpt/phaseD/trainer_state.json", "{data}/confusions.tsv",
                 "{data}/ngram4w/lm.npz"),
         outputs=("{models}/restorer/model.safetensors", "{models}/restorer/decoding.json")),
)  # fmt: skip


def expand(template: str, places: dict[str, str]) -> str:
    return template.format(**places)


def command(step: Step, places: dict[str, str]) -> list[str] | None:
    if step.script is None:
        return None
    script = str(REPO / "scripts" / step.script)
    return [sys.executable, script, *(expand(a, places) for a in step.args)]


def _newest_input(paths: list[Path]) -> float:
    """The latest modification time among the inputs (a folder counts by its files)."""
    times = [0.0]
    for path in paths:
        if path.is_dir():
            times += [p.stat().st_mtime for p in path.rglob("*") if p.is_file()]
        else:
            times.append(path.stat().st_mtime)
    return max(times)


def is_done(step: Step, places: dict[str, str]) -> bool:
    """All inputs and outputs exist, no output older than an input; a training step reached its
    step count."""
    outputs = [Path(expand(p, places)) for p in step.outputs]
    if not outputs or not all(p.exists() for p in outputs):
        return False
    if step.train_steps:
        state = json.loads(outputs[0].read_text(encoding="utf-8"))
        return int(state.get("step", 0)) >= step.train_steps
    inputs = [Path(expand(p, places)) for p in step.inputs]
    if not all(p.exists() for p in inputs):  # not made from these inputs
        return False
    return min(p.stat().st_mtime for p in outputs) >= _newest_input(inputs)


def select(steps: tuple[Step, ...], from_step: str | None, only: list[str] | None) -> list[Step]:
    names = [s.name for s in steps]
    for name in [from_step, *(only or [])]:
        if name is not None and name not in names:
            raise SystemExit(f"build_models: no step {name!r}; the steps are: {', '.join(names)}")
    if only:
        return [s for s in steps if s.name in only]
    start = names.index(from_step) if from_step else 0
    return list(steps[start:])


def run_step(step: Step, places: dict[str, str]) -> None:
    for output in step.outputs:
        Path(expand(output, places)).parent.mkdir(parents=True, exist_ok=True)
    argv = command(step, places)
    if argv is None:
        step.action(places)
        return
    subprocess.run(argv, check=True, cwd=REPO)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        epilog="steps, in order: " + ", ".join(s.name for s in STEPS),
    )
    parser.add_argument(
        "--corpus",
        type=Path,
        default=REPO.parent / "shared" / "corpus",
        help="the corpus folder; seeds/ and dev/ are read beside it",
    )
    parser.add_argument("--data", type=Path, help="data and work files (default: $VANBAN_DATA)")
    parser.add_argument(
        "--models", type=Path, default=REPO / "models", help="where restorer/ and lexicon/ go"
    )
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--from-step", metavar="NAME", help="start at this step")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these steps")
    parser.add_argument(
        "--force",
        action="store_true",
        help="run up-to-date steps too (training resumes its checkpoint)",
    )
    parser.add_argument("--dry-run", action="store_true", help="list the steps, run nothing")
    args = parser.parse_args(argv)
    corpus = args.corpus.resolve()
    places = {
        "corpus": str(corpus),
        "shared": str(corpus.parent),
        "data": str((args.data or data_dir()).resolve()),
        "models": str(args.models.resolve()),
        "jobs": str(args.jobs),
    }
    steps = select(STEPS, args.from_step, args.only)
    if not args.dry_run and not corpus.is_dir():
        print(f"build_models: {corpus}: corpus folder not found", file=sys.stderr)
        return 1
    for number, step in enumerate(steps, start=1):
        done = not args.force and is_done(step, places)
        argv_ = command(step, places)
        shown = " ".join(argv_[1:]) if argv_ else f"(copy: {step.what})"
        status = "done, skipped" if done else ("would run" if args.dry_run else "running")
        print(f"[{number}/{len(steps)}] {step.name}: {step.what} [{status}]\n    {shown}",
              flush=True)  # fmt: skip
        if done or args.dry_run:
            continue
        started = time.monotonic()
        try:
            run_step(step, places)
        except subprocess.CalledProcessError as exc:
            print(f"build_models: step {step.name} failed (exit {exc.returncode}); fix it and "
                  f"re-run with --from-step {step.name}", file=sys.stderr)  # fmt: skip
            return 1
        print(f"    {step.name} took {time.monotonic() - started:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
