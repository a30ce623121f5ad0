"""Ids of the restorer network's special output tokens (shared by training and inference)."""

PAD_ID, BOS_ID, COPY_ID, UNK_ID = 0, 1, 2, 3
SPECIAL_TOKENS = ["<pad>", "<bos>", "<copy>", "<unk>"]
