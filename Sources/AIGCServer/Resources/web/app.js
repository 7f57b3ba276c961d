// aigc web UI: chat with streaming over /v1/chat/completions, conversations kept by the server
// (/v1/conversations), a model picker, sampling parameters and a stop button. No build step.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { conversation: null, messages: [], controller: null };

function apiKey() { return localStorage.getItem("aigc-key") || ""; }

async function api(path, options = {}) {
  const headers = Object.assign({ "Content-Type": "application/json" }, options.headers || {});
  if (apiKey()) headers["Authorization"] = "Bearer " + apiKey();
  const response = await fetch(path, Object.assign({}, options, { headers }));
  if (response.status === 401) {
    const key = prompt("This server needs an API key (create one with `aigc keys create`):");
    if (key) { localStorage.setItem("aigc-key", key.trim()); return api(path, options); }
  }
  if (!response.ok) {
    let message = response.status + " " + response.statusText;
    try { message = (await response.json()).error.message; } catch (_) { /* keep the status line */ }
    throw new Error(message);
  }
  return response;
}

function addMessage(role, text, label) {
  const div = document.createElement("div");
  div.className = "message " + role;
  div.dataset.testid = "message-" + role;
  const body = document.createElement("div");
  body.className = "text";
  body.textContent = text;
  div.appendChild(body);
  if (role === "assistant") {
    const badge = document.createElement("div");
    badge.className = "label";
    badge.dataset.testid = "ai-label";
    badge.textContent = "AI-generated · 人工智能生成";
    if (label) badge.title = JSON.stringify(label);
    div.appendChild(badge);
  }
  $("messages").appendChild(div);
  $("messages").scrollTop = $("messages").scrollHeight;
  return body;
}

/** The JSON events of a Server-Sent Events response, up to `data: [DONE]`; an error event throws. */
async function* serverSentEvents(response) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const event = buffer.slice(0, end).trim();
      buffer = buffer.slice(end + 2);
      if (!event.startsWith("data: ")) continue;
      if (event === "data: [DONE]") return;
      const data = JSON.parse(event.slice(6));
      if (data.error) throw new Error(data.error.message);
      yield data;
    }
  }
}

function showError(message) { addMessage("error", message); }

async function loadModels() {
  const models = (await (await api("/v1/models")).json()).data;
  $("model").innerHTML = "";
  for (const m of models) {
    const option = document.createElement("option");
    option.value = option.textContent = m.id;
    $("model").appendChild(option);
  }
}

async function loadConversations() {
  const list = (await (await api("/v1/conversations?limit=100")).json()).data;
  const ul = $("conversations");
  ul.innerHTML = "";
  for (const c of list) {
    const li = document.createElement("li");
    li.textContent = c.title || "(untitled)";
    li.dataset.testid = "conversation";
    li.dataset.id = c.id;
    if (state.conversation === c.id) li.classList.add("current");
    li.onclick = () => openConversation(c.id);
    ul.appendChild(li);
  }
}

async function openConversation(id) {
  const data = await (await api("/v1/conversations/" + encodeURIComponent(id))).json();
  state.conversation = id;
  state.messages = data.messages.filter((m) => m.role !== "system").map((m) => ({ role: m.role, content: m.content }));
  $("system").value = data.conversation.systemPrompt || data.conversation.system_prompt || "";
  if ([...$("model").options].some((o) => o.value === data.conversation.model)) $("model").value = data.conversation.model;
  $("messages").innerHTML = "";
  for (const m of data.messages) {
    if (m.role === "system") continue;
    let label = null;
    try { label = JSON.parse(JSON.parse(m.generation || "{}").aigc || "null"); } catch (_) { /* no record */ }
    addMessage(m.role, m.content, label);
  }
  await loadConversations();
}

function newChat() {
  state.conversation = null;
  state.messages = [];
  $("messages").innerHTML = "";
  $("speed").textContent = "";
  loadConversations().catch((e) => showError(e.message));
}

async function send(text) {
  const model = $("model").value;
  if (!state.conversation) {
    const created = await (await api("/v1/conversations", {
      method: "POST", body: JSON.stringify({ model, title: text.slice(0, 60), system_prompt: $("system").value || undefined }),
    })).json();
    state.conversation = created.id;
  }
  addMessage("user", text);
  state.messages.push({ role: "user", content: text });
  const system = $("system").value.trim();
  const body = {
    model, stream: true, conversation_id: state.conversation,
    stream_options: { include_usage: true },
    messages: (system ? [{ role: "system", content: system }] : []).concat(state.messages),
    temperature: parseFloat($("temperature").value), top_p: parseFloat($("top-p").value),
    max_tokens: parseInt($("max-tokens").value, 10),
  };
  const out = addMessage("assistant", "");
  state.controller = new AbortController();
  $("send").disabled = true;
  $("stop").disabled = false;
  const started = performance.now();
  let firstToken = 0, tokens = 0, reply = "";
  try {
    const response = await api("/v1/chat/completions", { method: "POST", body: JSON.stringify(body), signal: state.controller.signal });
    for await (const chunk of serverSentEvents(response)) {
      if (chunk.usage) tokens = chunk.usage.completion_tokens;
      if (chunk.aigc) out.parentElement.querySelector(".label").title = JSON.stringify(chunk.aigc);
      const delta = chunk.choices && chunk.choices[0] && chunk.choices[0].delta;
      if (delta && delta.content) {
        if (!firstToken) firstToken = performance.now();
        reply += delta.content;
        out.textContent = reply;
        $("messages").scrollTop = $("messages").scrollHeight;
      }
    }
  } catch (e) {
    if (e.name !== "AbortError") showError(e.message);
  } finally {
    state.controller = null;
    $("send").disabled = false;
    $("stop").disabled = true;
    state.messages.push({ role: "assistant", content: reply });
    const seconds = (performance.now() - (firstToken || started)) / 1000;
    if (tokens) $("speed").textContent = `${tokens} tokens · ${(tokens / Math.max(seconds, 0.001)).toFixed(1)} tok/s`;
    $("speed").dataset.done = "true";
    loadConversations().catch(() => {});
  }
}

$("composer").onsubmit = (event) => {
  event.preventDefault();
  const text = $("input").value.trim();
  if (!text || state.controller) return;
  $("input").value = "";
  $("speed").textContent = "";
  delete $("speed").dataset.done;
  send(text).catch((e) => showError(e.message));
};
$("input").onkeydown = (event) => {
  if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); $("composer").requestSubmit(); }
};
$("stop").onclick = () => { if (state.controller) state.controller.abort(); };
$("new-chat").onclick = newChat;
$("key-button").onclick = () => {
  const key = prompt("API key (empty to clear):", apiKey());
  if (key !== null) { if (key.trim()) localStorage.setItem("aigc-key", key.trim()); else localStorage.removeItem("aigc-key"); }
};

(async () => {
  try {
    await loadModels();
    await loadConversations();
  } catch (e) { showError(e.message); }
})();
