// aigc web UI, image tab: POST /v1/images/generations with "stream": true, a progress bar fed by
// the step events, and a gallery of the returned PNGs, each shown with its AI-generated label.
"use strict";

function showTab(name) {
  $("chat-view").hidden = name !== "chat";
  $("images-view").hidden = name !== "images";
  $("tab-chat").classList.toggle("current", name === "chat");
  $("tab-images").classList.toggle("current", name === "images");
  if (name === "images") loadImageModels().catch((e) => { $("image-status").textContent = e.message; });
}

async function loadImageModels() {
  const models = (await (await api("/v1/images/models")).json()).data;
  const select = $("image-model");
  const current = select.value;
  select.innerHTML = "";
  for (const m of models) {
    const option = document.createElement("option");
    option.value = option.textContent = m.id;
    select.appendChild(option);
  }
  if (current) select.value = current;
  $("image-generate").disabled = models.length === 0;
  if (models.length === 0) $("image-status").textContent = "This server serves no image model (aigc serve --image-model PATH).";
}

function imageRequest() {
  const body = { model: $("image-model").value, n: Number($("image-n").value) || 1, stream: true, label: $("image-visible").checked };
  const text = (id) => $(id).value.trim();
  if (text("image-prompt")) body.prompt = text("image-prompt");
  if (text("image-negative")) body.negative_prompt = text("image-negative");
  if (text("image-steps")) body.steps = Number(text("image-steps"));
  if (text("image-seed")) body.seed = Number(text("image-seed"));
  if (text("image-size")) body.size = text("image-size");
  if (text("image-cfg")) body.guidance_scale = Number(text("image-cfg"));
  return body;
}

function addImage(item, response) {
  const figure = document.createElement("figure");
  figure.className = "image";
  figure.dataset.testid = "image";
  const img = document.createElement("img");
  img.src = item.url || "data:image/png;base64," + item.b64_json;
  img.alt = "AI-generated image";
  const caption = document.createElement("figcaption");
  const badge = document.createElement("span");
  badge.className = "label";
  badge.dataset.testid = "image-ai-label";
  badge.textContent = "AI-generated · 人工智能生成";
  badge.title = JSON.stringify(item.aigc);
  caption.appendChild(badge);
  caption.appendChild(document.createTextNode(` seed ${response.seed} · ${response.steps} step(s) · ${response.seconds.toFixed(2)} s`));
  figure.appendChild(img);
  figure.appendChild(caption);
  $("gallery").prepend(figure);
}

async function generateImages(event) {
  event.preventDefault();
  const button = $("image-generate");
  button.disabled = true;
  $("image-status").textContent = "waiting…";
  $("image-progress").value = 0;
  const started = performance.now();
  try {
    const response = await api("/v1/images/generations", { method: "POST", body: JSON.stringify(imageRequest()) });
    for await (const event of serverSentEvents(response)) {
      if (event.type === "image_generation.progress") {
        $("image-progress").max = event.total_steps;
        $("image-progress").value = event.step;
        const seconds = (performance.now() - started) / 1000;
        $("image-status").textContent = `step ${event.step}/${event.total_steps} · ${(event.step / seconds).toFixed(2)} steps/s`;
      } else if (event.type === "image_generation.completed") {
        for (const item of event.data) addImage(item, event);
        $("image-status").textContent = `${event.data.length} image(s) in ${event.seconds.toFixed(2)} s`;
      }
    }
  } catch (error) {
    $("image-status").textContent = error.message;
  } finally {
    button.disabled = false;
  }
}

$("tab-chat").addEventListener("click", () => showTab("chat"));
$("tab-images").addEventListener("click", () => showTab("images"));
$("image-form").addEventListener("submit", generateImages);
