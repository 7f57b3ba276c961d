"""The official `openai` Python SDK against a running `aigc serve`, used unchanged (only base_url and
api_key differ from OpenAI's own service)."""
import base64
import json
import struct

import openai
import pytest
import requests

from conftest import Server, aigc


@pytest.fixture(scope="module")
def client(server):
    return openai.OpenAI(base_url=server.url + "/v1", api_key="unused", max_retries=0, timeout=120)


def test_models_list(client, model):
    ids = [m.id for m in client.models.list()]
    assert model in ids
    assert client.models.retrieve(model).id == model


def test_chat_non_stream(client, model):
    # (With a system prompt this 135M model, like llama.cpp on the same file, drifts into French.)
    r = client.chat.completions.create(model=model, messages=[{"role": "user", "content": "Name the capital of France."}],
                                       max_tokens=24, temperature=0, seed=1)
    choice = r.choices[0]
    assert r.object == "chat.completion" and choice.message.role == "assistant"
    assert "Paris" in choice.message.content
    assert choice.finish_reason in ("stop", "length")
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens
    assert r.usage.completion_tokens <= 24
    label = r.model_extra["aigc"]
    assert label["Label"] == "1" and label["ContentProducer"] == "aigc"


def test_chat_is_reproducible_with_a_seed(client, model):
    ask = dict(model=model, messages=[{"role": "user", "content": "Tell me a story."}], max_tokens=16, temperature=0.9, seed=42)
    assert client.chat.completions.create(**ask).choices[0].message.content == client.chat.completions.create(**ask).choices[0].message.content


def test_chat_stream_with_usage(client, model):
    stream = client.chat.completions.create(model=model, messages=[{"role": "user", "content": "Count to five."}],
                                            max_tokens=12, temperature=0, stream=True, stream_options={"include_usage": True})
    text, finish, usage = "", None, None
    for chunk in stream:
        if chunk.usage:
            usage = chunk.usage
        for c in chunk.choices:
            text += c.delta.content or ""
            finish = c.finish_reason or finish
    assert text and finish in ("stop", "length")
    assert usage is not None and usage.completion_tokens <= 12
    plain = client.chat.completions.create(model=model, messages=[{"role": "user", "content": "Count to five."}], max_tokens=12, temperature=0)
    assert plain.choices[0].message.content == text, "streaming and non-streaming greedy replies agree"


def test_chat_n_choices_stop_and_logprobs(client, model):
    r = client.chat.completions.create(model=model, messages=[{"role": "user", "content": "Say something."}], max_tokens=8,
                                       n=3, temperature=1.0, seed=7, logprobs=True, top_logprobs=2)
    assert [c.index for c in r.choices] == [0, 1, 2]
    for c in r.choices:
        assert len(c.logprobs.content) == r.usage.completion_tokens // 3 or c.finish_reason == "stop"
        assert all(len(t.top_logprobs) == 2 and t.logprob <= 0 for t in c.logprobs.content)
    r = client.chat.completions.create(model=model, messages=[{"role": "user", "content": "List the numbers 1, 2, 3, 4, 5 separated by commas."}],
                                       max_tokens=40, temperature=0, stop=["3"])
    assert "3" not in r.choices[0].message.content and r.choices[0].finish_reason == "stop"


def test_json_object_mode(client, model):
    r = client.chat.completions.create(model=model, messages=[{"role": "user", "content": "Describe a cat as JSON."}],
                                       max_tokens=60, temperature=0, response_format={"type": "json_object"})
    content = r.choices[0].message.content
    if r.choices[0].finish_reason == "stop":
        assert isinstance(json.loads(content), dict)
    else:
        assert content.lstrip().startswith("{")


def test_penalties_are_accepted(client, model):
    r = client.chat.completions.create(model=model, messages=[{"role": "user", "content": "Repeat: la la la la"}], max_tokens=10,
                                       temperature=0, presence_penalty=1.5, frequency_penalty=1.0, top_p=0.9)
    assert r.choices[0].message.content is not None


def test_completions(client, model):
    r = client.completions.create(model=model, prompt="The capital of France is", max_tokens=6, temperature=0)
    assert r.object == "text_completion" and "Paris" in r.choices[0].text
    streamed = "".join(c.choices[0].text for c in client.completions.create(model=model, prompt="The capital of France is",
                                                                              max_tokens=6, temperature=0, stream=True) if c.choices)
    assert streamed == r.choices[0].text


def test_embeddings(client, model):
    r = client.embeddings.create(model=model, input=["The cat sat on the mat.", "A kitten rested on the rug.", "Stock markets fell today."])
    vectors = [d.embedding for d in r.data]
    assert len(vectors) == 3 and len({len(v) for v in vectors}) == 1 and len(vectors[0]) >= 64
    cosine = lambda a, b: sum(x * y for x, y in zip(a, b)) / (sum(x * x for x in a) * sum(y * y for y in b)) ** 0.5
    assert abs(cosine(vectors[0], vectors[0]) - 1) < 1e-4
    assert r.usage.prompt_tokens > 0
    floats = client.embeddings.create(model=model, input="The cat sat on the mat.", encoding_format="float").data[0].embedding
    assert max(abs(a - b) for a, b in zip(floats, vectors[0])) < 1e-5, "base64 (the SDK's default) and float agree"


def test_unknown_model_is_404(client):
    with pytest.raises(openai.NotFoundError) as e:
        client.chat.completions.create(model="no-such-model", messages=[{"role": "user", "content": "Hi"}])
    assert e.value.code == "model_not_found"


def test_prompt_over_context_is_400(client, model):
    with pytest.raises(openai.BadRequestError) as e:
        client.completions.create(model=model, prompt="word " * 10000, max_tokens=4)
    assert e.value.code == "context_length_exceeded"


def test_bad_parameters_are_400(client, model):
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model=model, messages=[], max_tokens=4)
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model=model, messages=[{"role": "user", "content": "Hi"}], n=100)
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model=model, messages=[{"role": "user", "content": "Hi"}], temperature=-1)


def test_malformed_json_is_400_in_openais_shape(server):
    r = requests.post(server.url + "/v1/chat/completions", data=b'{"model": ', headers={"Content-Type": "application/json"}, timeout=30)
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["type"] == "invalid_request_error" and error["message"]


@pytest.fixture(scope="module")
def secured(tmp_path_factory):
    database = tmp_path_factory.mktemp("keys") / "aigc.sqlite"
    keys = {name: json.loads(aigc("keys", "create", "--name", name, *extra, "--json", "--database", str(database)).stdout)["key"]
            for name, extra in [("alice", []), ("tiny-quota", ["--quota-tokens", "5"]), ("slow", ["--rpm", "1"])]}
    s = Server(database, "--auth", "required").start()
    yield s, keys, database
    s.stop()


def test_keys_quota_and_rate_limit(secured, model):
    server, keys, database = secured
    anonymous = openai.OpenAI(base_url=server.url + "/v1", api_key="aigc-wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        anonymous.models.list()
    alice = openai.OpenAI(base_url=server.url + "/v1", api_key=keys["alice"], max_retries=0)
    assert alice.chat.completions.create(model=model, messages=[{"role": "user", "content": "Hi"}], max_tokens=4).choices
    quota = openai.OpenAI(base_url=server.url + "/v1", api_key=keys["tiny-quota"], max_retries=0)
    quota.completions.create(model=model, prompt="Once upon a time", max_tokens=8)
    with pytest.raises(openai.RateLimitError) as e:
        quota.completions.create(model=model, prompt="Once upon a time", max_tokens=8)
    assert e.value.code == "insufficient_quota"
    slow = openai.OpenAI(base_url=server.url + "/v1", api_key=keys["slow"], max_retries=0)
    slow.completions.create(model=model, prompt="Hi", max_tokens=2)
    with pytest.raises(openai.RateLimitError) as e:
        slow.completions.create(model=model, prompt="Hi", max_tokens=2)
    assert e.value.code == "rate_limit_exceeded"
    usage = json.loads(aigc("usage", "--json", "--key", "alice", "--database", str(database)).stdout)
    rows = usage if isinstance(usage, list) else usage.get("totals", usage.get("data", []))
    assert sum(r["requests"] for r in rows) == 1, usage
