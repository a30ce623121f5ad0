"""The shipped models, installed as `vanban.models`.

`restorer/`: the network, the 4-gram LM, the decoder settings, and the model card (`README.md`).
`lexicon/`: the learned OCR channel, the syllable inventory, the digit and code tables.
"""

from pathlib import Path

MODELS_DIR = Path(__file__).resolve().parent
RESTORER_DIR = MODELS_DIR / "restorer"
LEXICON_DIR = MODELS_DIR / "lexicon"
