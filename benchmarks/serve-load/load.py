#!/usr/bin/env python3
"""Bounded load test for an OpenAI-compatible server: N concurrent clients send streaming chat
completions back to back for D seconds (requests in flight at the deadline finish and count).

Reports one JSON line: requests, failures, completion tokens, aggregate tokens/s (tokens received /
wall time from the first request to the last byte), and time-to-first-token p50/p95. Standard
library only, so the same client measures every server.

Usage: load.py URL [--clients 16] [--duration 60] [--max-tokens 64] [--model NAME] [--label NAME]
"""
import argparse
import http.client
import json
import statistics
import threading
import time
import urllib.parse

PROMPTS = [
    "Write a short story about a lighthouse keeper.",
    "Explain how a bicycle stays upright.",
    "List some uses of copper and why.",
    "Describe the water cycle to a child.",
    "What makes a good cup of tea?",
    "Give advice to someone learning to cook.",
    "Why do leaves change colour in autumn?",
    "Tell me about the history of the printing press.",
]


def percentile(values, q):
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def one_request(url, model, max_tokens, prompt, seed):
    """Returns (ttft_seconds, completion_tokens); raises on any failure."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=300)
    body = json.dumps({
        "model": model, "stream": True, "max_tokens": max_tokens, "temperature": 0.7, "seed": seed,
        "stream_options": {"include_usage": True},
        "messages": [{"role": "user", "content": prompt}],
    })
    started = time.perf_counter()
    connection.request("POST", "/v1/chat/completions", body, {"Content-Type": "application/json"})
    response = connection.getresponse()
    if response.status != 200:
        raise RuntimeError(f"HTTP {response.status}: {response.read()[:200]!r}")
    ttft = None
    chunks = 0
    usage_tokens = None
    done = False
    for raw in response:
        line = raw.decode("utf-8", "replace").strip()
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if data == "[DONE]":
            done = True
            break
        event = json.loads(data)
        if "error" in event:
            raise RuntimeError(f"error event: {event['error']}")
        for choice in event.get("choices") or []:
            content = (choice.get("delta") or {}).get("content")
            if content:
                chunks += 1
                if ttft is None:
                    ttft = time.perf_counter() - started
        if event.get("usage"):
            usage_tokens = event["usage"].get("completion_tokens")
    connection.close()
    if not done:
        raise RuntimeError("stream ended without data: [DONE]")
    return ttft, usage_tokens if usage_tokens is not None else chunks


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--model", default="default")
    parser.add_argument("--label", default="server")
    args = parser.parse_args()

    lock = threading.Lock()
    ttfts, failures, errors = [], 0, []
    tokens = requests = 0
    deadline = time.perf_counter() + args.duration

    def client(index):
        nonlocal tokens, requests, failures
        n = 0
        while time.perf_counter() < deadline:
            prompt = PROMPTS[(index + n) % len(PROMPTS)]
            try:
                ttft, count = one_request(args.url, args.model, args.max_tokens, prompt, seed=index * 1000 + n)
                with lock:
                    requests += 1
                    tokens += count
                    if ttft is not None:
                        ttfts.append(ttft)
            except Exception as error:  # every failure counts and is reported
                with lock:
                    failures += 1
                    if len(errors) < 5:
                        errors.append(repr(error))
            n += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    print(json.dumps({
        "server": args.label, "clients": args.clients, "duration_s": round(wall, 1),
        "requests": requests, "failed": failures, "completion_tokens": tokens,
        "aggregate_tokens_per_s": round(tokens / wall, 1),
        "ttft_p50_ms": round(1000 * percentile(ttfts, 50), 1) if ttfts else None,
        "ttft_p95_ms": round(1000 * percentile(ttfts, 95), 1) if ttfts else None,
        "ttft_mean_ms": round(1000 * statistics.mean(ttfts), 1) if ttfts else None,
        "errors": errors,
    }), flush=True)


if __name__ == "__main__":
    main()
