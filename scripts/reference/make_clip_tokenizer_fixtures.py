#!/usr/bin/env python3
"""Expected CLIP token ids for a set of prompts, from two references over the same vocabulary
(shared/data/tokenizers/clip/bpe_simple_vocab_16e6.txt.gz, open_clip's):

1. `ids`: open_clip's SimpleTokenizer algorithm, written out below (basic_clean = ftfy.fix_text +
   html.unescape twice + strip; whitespace_clean; lower; CLIP's regex; byte-level BPE with </w>;
   [BOS] ids [EOS] cut/padded to 77 with EOS as SD 1.x's tokenizer pads). This is what aigc matches.
2. `hf_ids`: transformers' CLIPTokenizer built from a vocab.json + merges.txt derived from the same
   file (transformers >= 5 has no ftfy step: NFC + whitespace + lower only), to check the BPE and
   framing independently; prompts whose text ftfy or html.unescape changes may differ, and
   `hf_differs` marks them.

Writes Tests/Fixtures/clip-tokenizer/cases.json and meta.json. Run from the repository root:
  python3 -m venv .venv-ref && .venv-ref/bin/pip install transformers ftfy regex
  .venv-ref/bin/python scripts/reference/make_clip_tokenizer_fixtures.py
"""
import gzip
import html
import json
import os
import re
import tempfile

import ftfy
import regex
import transformers
from transformers import CLIPTokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
VOCAB = os.path.join(ROOT, "..", "shared", "data", "tokenizers", "clip", "bpe_simple_vocab_16e6.txt.gz")
OUT = os.path.join(ROOT, "Tests", "Fixtures", "clip-tokenizer")
CONTEXT = 77

PROMPTS = [
    "",
    "   ",
    "a photograph of an astronaut riding a horse",
    "A Photograph of an Astronaut Riding a HORSE",
    "a cat, sitting on a mat; 4k, ultra-detailed!!!",
    "portrait of a woman, (masterpiece:1.2), [best quality], {hires}",
    "It's 2026: 12345 apples, 3.14 pies and 1,000,000 dollars.",
    "don't you'll we've they're I'm she'd he'll",
    "DON'T YOU'LL WE'VE",
    "rock'n'roll 'quoted' ''double'' '",
    "tab\tseparated\nnew\r\nlines  and   spaces",
    "ünïcödé café naïve résumé",
    "Ελληνικά ΟΔΟΣ σοφίας",
    "Привет, мир! Москва",
    "人工智能 生成 的 图像",
    "日本語のテキスト、カタカナ、ひらがな",
    "한국어 문장입니다",
    "emoji 🦙🚀 and 👩‍👩‍👧 family, flags 🇫🇷",
    "hindi हिन्दी and arabic العربية",
    "<|startoftext|>explicit specials<|endoftext|>",
    "x<|endoftext|>y",
    "a.<|endoftext|>",
    "<|ENDOFTEXT|> upper",
    "curly “quotes” and ‘single’ ones",
    "ligatures: ﬁne ﬂower ﬀ",
    "full-width: ＡＢＣ１２３！",
    "html: fish &amp; chips &lt;3 &quot;yes&quot; &#233;t&#xE9;",
    "html with tag <b>bold</b> &amp; more",
    "math: x^2 + y_1 = z*3 / 4 % 5 @ #hashtag $100 ~ |pipe| \\back",
    "urls: https://example.com/path?q=1&r=2",
    "numbers 0 1 2 3 4 5 6 7 8 9 10 100 1000 ½ ² Ⅻ",
    "supercalifragilisticexpialidocious antidisestablishmentarianism",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "zero\u200bwidth space and\u00a0nbsp",
    "control\x07chars\x1fhere",
    "trailing punctuation...",
    "a highly detailed matte painting of a castle on a hill at sunset, by greg rutkowski and "
    "thomas kinkade, trending on artstation, octane render, 8k, volumetric lighting, dramatic "
    "clouds, intricate, elegant, sharp focus, illustration, concept art, smooth, cinematic, "
    "golden hour, wide angle, epic composition, masterpiece, award winning photograph",
    "one two three four five six seven eight nine ten " * 9,
]


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


class Reference:
    """open_clip's SimpleTokenizer, restated."""

    def __init__(self, path):
        self.byte_encoder = bytes_to_unicode()
        lines = gzip.open(path).read().decode("utf-8").split("\n")
        self.merges = [tuple(m.split()) for m in lines[1 : 49152 - 256 - 2 + 1]]
        vocab = list(self.byte_encoder.values())
        vocab = vocab + [v + "</w>" for v in vocab]
        vocab += ["".join(m) for m in self.merges]
        vocab += ["<|startoftext|>", "<|endoftext|>"]
        self.vocab = vocab
        self.encoder = {t: i for i, t in enumerate(vocab)}
        self.ranks = {m: i for i, m in enumerate(self.merges)}
        self.pattern = regex.compile(
            r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+""", regex.IGNORECASE)

    @staticmethod
    def clean(text):
        text = ftfy.fix_text(text)
        text = html.unescape(html.unescape(text)).strip()
        return re.sub(r"\s+", " ", text).strip().lower()

    def bpe(self, token):
        if token in ("<|startoftext|>", "<|endoftext|>"):
            return [token]
        word = list(token[:-1]) + [token[-1] + "</w>"]
        while len(word) > 1:
            pairs = {(word[i], word[i + 1]) for i in range(len(word) - 1)}
            best = min(pairs, key=lambda p: self.ranks.get(p, float("inf")))
            if best not in self.ranks:
                break
            merged, i = [], 0
            while i < len(word):
                if i < len(word) - 1 and (word[i], word[i + 1]) == best:
                    merged.append(word[i] + word[i + 1])
                    i += 2
                else:
                    merged.append(word[i])
                    i += 1
            word = merged
        return word

    def encode(self, text):
        ids = []
        for token in self.pattern.findall(self.clean(text)):
            token = "".join(self.byte_encoder[b] for b in token.encode("utf-8")) if token not in ("<|startoftext|>", "<|endoftext|>") else token
            ids += [self.encoder[t] for t in self.bpe(token)]
        return ids

    def frame(self, ids):
        ids = [self.encoder["<|startoftext|>"]] + ids[: CONTEXT - 2] + [self.encoder["<|endoftext|>"]]
        return ids + [self.encoder["<|endoftext|>"]] * (CONTEXT - len(ids))


def huggingface(ref):
    folder = tempfile.mkdtemp()
    with open(os.path.join(folder, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump(ref.encoder, f, ensure_ascii=False)
    with open(os.path.join(folder, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n" + "\n".join(" ".join(m) for m in ref.merges) + "\n")
    return CLIPTokenizer(vocab=os.path.join(folder, "vocab.json"), merges=os.path.join(folder, "merges.txt"))


def main():
    ref = Reference(VOCAB)
    assert len(ref.vocab) == 49408
    hf = huggingface(ref)
    cases = []
    for prompt in PROMPTS:
        ids = ref.encode(prompt)
        padded = ref.frame(ids)
        hf_ids = hf(prompt, padding="max_length", max_length=CONTEXT, truncation=True)["input_ids"]
        cases.append({"prompt": prompt, "cleaned": ref.clean(prompt), "tokens": ids, "ids": padded,
                      "hf_ids": hf_ids, "hf_differs": hf_ids != padded})
        if hf_ids != padded:
            print(f"transformers differs on {prompt!r}: cleaned {ref.clean(prompt)!r}")
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "cases.json"), "w", encoding="utf-8") as f:
        json.dump({"context": CONTEXT, "cases": cases}, f, ensure_ascii=False, indent=1)
    with open(os.path.join(OUT, "meta.json"), "w") as f:
        json.dump({"script": "scripts/reference/make_clip_tokenizer_fixtures.py", "vocabulary": "bpe_simple_vocab_16e6.txt.gz "
                   "sha256 924691ac288e54409236115652ad4aa250f48203de50a9e4722a6ecd48d6804a",
                   "transformers": transformers.__version__, "ftfy": ftfy.__version__, "regex": regex.__version__}, f, indent=1)
    print(f"{len(cases)} cases, {sum(c['hf_differs'] for c in cases)} differ from transformers")


if __name__ == "__main__":
    main()
