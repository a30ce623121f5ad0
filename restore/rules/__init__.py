"""Narrow repairs the decoder applies: digits printed for words (`digits`), letters printed for
digits (`numerals`), the Đ of document codes (`codes`)."""
