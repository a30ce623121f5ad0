"""Turn lines of OCR chunks (with neighbouring-line context) into model tensors."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from vanban.restore.network.features import PAD_FEATURE, SEP_FEATURE, chunk_features
from vanban.restore.network.specials import BOS_ID, PAD_ID
from vanban.restore.network.vocab import IGNORE

from vanban.core.text import Chunk


@dataclass
class Example:
    """One line to restore: its chunks, some chunks of the lines around it, and targets if known."""

    chunks: list[Chunk]
    before: list[Chunk] = field(default_factory=list)
    after: list[Chunk] = field(default_factory=list)
    targets: list[int] | None = None


def make_batch(examples: list[Example], n_buckets: int, context: int) -> dict[str, torch.Tensor]:
    """Pad a list of examples into the tensors `RestorerModel` takes."""
    sequences, segs, line_pos = [], [], []
    for ex in examples:
        before = [chunk_features(c, n_buckets) for c in ex.before[-context:]]
        line = [chunk_features(c, n_buckets) for c in ex.chunks]
        after = [chunk_features(c, n_buckets) for c in ex.after[:context]]
        seq = before + [(SEP_FEATURE,)] + line + [(SEP_FEATURE,)] + after
        seg = [0] * (len(before) + 1) + [1] * len(line) + [2] * (len(after) + 1)
        start = len(before) + 1
        sequences.append(seq)
        segs.append(seg)
        line_pos.append(list(range(start, start + len(line))))
    width = max(len(s) for s in sequences)
    steps = max(1, max(len(p) for p in line_pos))
    flat, offsets = [], []
    seg_t = torch.zeros(len(examples), width, dtype=torch.long)
    mask = torch.zeros(len(examples), width, dtype=torch.long)
    index = torch.zeros(len(examples), steps, dtype=torch.long)
    for b, (seq, seg, pos) in enumerate(zip(sequences, segs, line_pos, strict=True)):
        for feats in seq + [(PAD_FEATURE,)] * (width - len(seq)):
            offsets.append(len(flat))
            flat.extend(feats)
        seg_t[b, : len(seg)] = torch.tensor(seg)
        mask[b, : len(seq)] = 1
        if pos:
            index[b, : len(pos)] = torch.tensor(pos)
    batch = {
        "feats": torch.tensor(flat, dtype=torch.long),
        "offsets": torch.tensor(offsets, dtype=torch.long),
        "segments": seg_t,
        "attention_mask": mask,
        "line_index": index,
    }
    if all(ex.targets is not None for ex in examples):
        labels = torch.full((len(examples), steps), IGNORE, dtype=torch.long)
        prev = torch.full((len(examples), steps), PAD_ID, dtype=torch.long)
        for b, ex in enumerate(examples):
            tg = ex.targets or []
            if tg:
                labels[b, : len(tg)] = torch.tensor(tg)
                inputs = [BOS_ID] + [t if t >= 0 else 3 for t in tg[:-1]]
                prev[b, : len(tg)] = torch.tensor(inputs)
            else:
                prev[b, 0] = BOS_ID
        batch["labels"] = labels
        batch["prev_targets"] = prev
    return batch
