#!/usr/bin/env python3
"""Small Hugging Face tokenizer.json files and their encodings, made with the `tokenizers` library.

Trains byte-level BPE vocabularies (about 600 tokens) on the shared fortunes data with three
pre-tokenizers — GPT-2's ByteLevel regex, Llama 3's Split regex, SmolLM's individual digits — and
records how `tokenizers` itself encodes a set of test strings. Writes Tests/Fixtures/tokenizer-json/
<name>/tokenizer.json + tokenizer_config.json, and cases.json. Run from the repository root:
  python3 scripts/reference/make_tokenizer_json.py      (needs: pip install tokenizers)
"""
import json
import os

from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers

HERE = os.path.dirname(__file__)
OUT = os.path.join(HERE, "..", "..", "Tests", "Fixtures", "tokenizer-json")
DATA = os.path.join(HERE, "..", "..", "..", "shared", "data", "datasets")
LLAMA3 = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
TESTS = [
    "Hello world", " Hello World!", "It's 2026: 12345 apples, 3.14 pies.", "  two  spaces\tand\ttabs\n\nnew lines",
    "don't YOU'LL we've", "ünïcödé and 人工智能 🦙", "<|endoftext|> is special", "x<|endoftext|>y", "", "    ",
]


def corpus():
    for name in ("fortunes-en/fortunes.txt", "fortunes-en/riddles.txt"):
        with open(os.path.join(DATA, name), encoding="utf-8") as f:
            yield from f.read().split("\n%\n")


def build(name, pre):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=600, special_tokens=["<|endoftext|>"], show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(corpus(), trainer)
    folder = os.path.join(OUT, name)
    os.makedirs(folder, exist_ok=True)
    tok.save(os.path.join(folder, "tokenizer.json"))
    with open(os.path.join(folder, "tokenizer_config.json"), "w") as f:
        json.dump({"bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>", "add_bos_token": False}, f)
    return {"name": name, "cases": [{"text": t, "ids": tok.encode(t).ids} for t in TESTS]}


def main():
    results = [
        build("gpt2", pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)),
        build("llama3", pre_tokenizers.Sequence([pre_tokenizers.Split(Regex(LLAMA3), behavior="isolated", invert=False),
                                                 pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])),
        build("smollm", pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True),
                                                 pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)])),
    ]
    import tokenizers
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump({"tokenizers": tokenizers.__version__, "vocabularies": results}, f, ensure_ascii=False, indent=1)


if __name__ == "__main__":
    main()
