"""The n-gram decoder: syllable inventory (`lexicon`), LM (`lm`), OCR channel (`channel`),
candidates (`candidates`), beam search (`beam`), line-structure rules (`lines`), and the
decoder that turns lines into slots and back (`restorer`)."""
