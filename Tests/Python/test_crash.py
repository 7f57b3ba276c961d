"""kill -9 of the server under load: after a restart the store opens, and every request a client saw
complete (streamed to `data: [DONE]`, or a 200 body) has its usage row."""
import json
import sqlite3
import threading
import time

import requests

from conftest import Server, aigc


def test_every_completed_request_survives_kill_9(tmp_path, model):
    database = tmp_path / "aigc.sqlite"
    key = json.loads(aigc("keys", "create", "--name", "load", "--json", "--database", str(database)).stdout)["key"]
    server = Server(database, "--auth", "required").start()
    headers = {"Authorization": f"Bearer {key}"}
    completed = {"requests": 0, "completion_tokens": 0}
    lock = threading.Lock()
    stop = threading.Event()

    def client(index):
        stream = index % 2 == 0
        while not stop.is_set():
            body = {"model": model, "messages": [{"role": "user", "content": f"Tell me fact number {index}."}],
                    "max_tokens": 12, "temperature": 0.8, "stream": stream, "stream_options": {"include_usage": True}}
            try:
                with requests.post(server.url + "/v1/chat/completions", json=body, headers=headers, stream=stream, timeout=60) as r:
                    if r.status_code != 200:
                        continue
                    tokens, done = None, False
                    if stream:
                        for line in r.iter_lines():
                            if line == b"data: [DONE]":
                                done = True
                            elif line.startswith(b"data: {"):
                                usage = json.loads(line[6:]).get("usage")
                                tokens = usage["completion_tokens"] if usage else tokens
                    else:
                        tokens, done = r.json()["usage"]["completion_tokens"], True
                    if done:
                        with lock:
                            completed["requests"] += 1
                            completed["completion_tokens"] += tokens
            except (requests.RequestException, ValueError):
                return  # the server died mid-request: that request never completed

    threads = [threading.Thread(target=client, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    time.sleep(6)
    server.kill()
    stop.set()
    for t in threads:
        t.join(60)
    assert completed["requests"] > 5, "the load ran long enough to complete requests before the kill"

    restarted = Server(database, "--auth", "required").start()
    try:
        assert restarted.get_json("/v1/models", key=key)["data"], "the store opened and authenticates the same key"
    finally:
        restarted.stop()
    with sqlite3.connect(database) as db:
        stored, tokens = db.execute("SELECT count(*), coalesce(sum(completion_tokens), 0) FROM usage_records u JOIN api_keys k ON k.id = u.key_id "
                                    "WHERE k.name = 'load' AND u.status = 200").fetchone()
    print(f"clients saw {completed['requests']} requests complete ({completed['completion_tokens']} tokens); stored: {stored} ({tokens} tokens)")
    assert stored >= completed["requests"]
    assert tokens >= completed["completion_tokens"]
    assert json.loads(aigc("usage", "--json", "--key", "load", "--database", str(database)).stdout)["totals"][0]["requests"] >= stored
