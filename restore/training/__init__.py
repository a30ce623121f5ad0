"""Training- and evaluation-only code: the transformers model (`model`), restoration scores
(`metrics`)."""
