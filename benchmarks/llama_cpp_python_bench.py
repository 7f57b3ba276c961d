#!/usr/bin/env python3
"""The llama-bench workload through llama-cpp-python: ppN = N random tokens as one batch on an empty
cache (logits for the last), tgN = N single-token decodes of random tokens. Prints one JSON object
per test, like `aigc bench --json`. Usage: llama_cpp_python_bench.py MODEL THREADS P N REPETITIONS"""
import json
import random
import statistics
import sys
import time

from llama_cpp import Llama

model, threads, n_prompt, n_gen, reps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
llm = Llama(model_path=model, n_ctx=max(n_prompt, n_gen) + 16, n_batch=max(n_prompt, 1), n_ubatch=max(n_prompt, 1),
            n_threads=threads, n_threads_batch=threads, logits_all=False, verbose=False)
vocab = llm.n_vocab()
rng = random.Random(1)


def run(test, n, body):
    samples = []
    for rep in range(reps + 1):  # one warm-up
        llm.reset()
        llm._ctx.kv_cache_clear()
        tokens = [rng.randrange(vocab) for _ in range(n)]
        start = time.perf_counter()
        body(tokens)
        seconds = time.perf_counter() - start
        if rep > 0:
            samples.append(n / seconds)
    print(json.dumps({"engine": "llama-cpp-python", "test": test, "threads": threads,
                      "tokens_per_second": statistics.mean(samples), "stddev": statistics.stdev(samples) if len(samples) > 1 else 0,
                      "samples": samples}))


if n_prompt > 0:
    run(f"pp{n_prompt}", n_prompt, lambda t: llm.eval(t))
if n_gen > 0:
    def generate(tokens):
        for t in tokens:
            llm.eval([t])
    run(f"tg{n_gen}", n_gen, generate)
