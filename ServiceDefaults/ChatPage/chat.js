// Fathom's chat page: plain JavaScript over the OpenAI endpoints any client uses (/v1/models, /v1/chat/completions).
// Model output is only ever set as textContent, never parsed as HTML.
"use strict";

const STORE_KEY = "fathom.chat";      // localStorage: the conversation and settings survive a reload
const KEY_KEY = "fathom.apiKey";      // sessionStorage: the API key lives only as long as the tab's session

const $ = (id) => document.getElementById(id);
const ui = {
  model: $("model"), newChat: $("new-chat"), system: $("system"), temperature: $("temperature"), maxTokens: $("max-tokens"),
  keyDialog: $("key-dialog"), apiKey: $("api-key"), error: $("error"), messages: $("messages"),
  composer: $("composer"), message: $("message"), send: $("send"), stop: $("stop"),
};

let state = load();
let running = null; // the AbortController of the answer being streamed

function load() {
  const settings = { model: "", system: "", temperature: "", maxTokens: "" };
  try {
    const saved = JSON.parse(localStorage.getItem(STORE_KEY) || "null");
    if (saved && Array.isArray(saved.messages)) return { messages: saved.messages, settings: { ...settings, ...saved.settings } };
  } catch { /* a damaged entry starts a fresh conversation */ }
  return { messages: [], settings };
}

function save() {
  localStorage.setItem(STORE_KEY, JSON.stringify(state));
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function showError(text) {
  ui.error.textContent = text;
  ui.error.hidden = !text;
}

function headers() {
  const h = { "Content-Type": "application/json" };
  const key = sessionStorage.getItem(KEY_KEY);
  if (key) h["Authorization"] = "Bearer " + key;
  return h;
}

// The message of an OpenAI-shaped error body, or the status line.
async function errorText(response) {
  let text = "";
  try {
    text = await response.text();
    const body = JSON.parse(text);
    if (body && body.error && body.error.message) return `${response.status}: ${body.error.message}`;
  } catch { /* not JSON: fall through */ }
  return `${response.status} ${response.statusText}${text ? ": " + text.slice(0, 300) : ""}`;
}

function askForKey() {
  ui.keyDialog.hidden = false;
  ui.apiKey.focus();
}

async function loadModels() {
  const response = await fetch("/v1/models", { headers: headers() });
  if (response.status === 401) {
    showError(await errorText(response));
    askForKey();
    return;
  }
  if (!response.ok) {
    showError("Listing models failed: " + await errorText(response));
    return;
  }
  const list = await response.json();
  ui.model.replaceChildren(...list.data.map((m) => el("option", "", m.id)));
  for (const option of ui.model.options) option.value = option.textContent;
  if (list.data.some((m) => m.id === state.settings.model)) ui.model.value = state.settings.model;
  state.settings.model = ui.model.value;
  ui.keyDialog.hidden = true;
  showError("");
  save();
}

function renderMessage(message) {
  const node = el("article", "message " + message.role);
  node.append(el("div", "role", message.role === "user" ? "You" : (message.model || "Assistant")));
  const reasoning = el("details", "reasoning");
  reasoning.append(el("summary", "", "Reasoning"), el("div", "reasoning-text"));
  reasoning.hidden = !message.reasoning;
  node.append(reasoning, el("div", "content"), el("div", "stats"));
  ui.messages.append(node);
  updateMessage(node, message);
  return node;
}

function updateMessage(node, message) {
  const reasoning = node.querySelector(".reasoning");
  reasoning.hidden = !message.reasoning;
  reasoning.querySelector(".reasoning-text").textContent = message.reasoning || "";
  reasoning.querySelector("summary").textContent = message.reasoningTokens
    ? `Reasoning (${message.reasoningTokens} tokens)` : "Reasoning";
  node.querySelector(".content").textContent = message.content || "";
  node.querySelector(".stats").textContent = message.stats || "";
  node.classList.toggle("failed", !!message.failed);
}

function renderAll() {
  ui.messages.replaceChildren();
  for (const message of state.messages) renderMessage(message);
}

function statsText(usage, ttftMs, rate, pieces) {
  const parts = [];
  const tokens = usage ? usage.completion_tokens : pieces;
  parts.push(`${tokens} tokens`);
  parts.push(`${rate.toFixed(1)} tokens/s`);
  parts.push(`TTFT ${Math.round(ttftMs)} ms`);
  if (usage) {
    const cached = usage.prompt_tokens_details ? usage.prompt_tokens_details.cached_tokens : 0;
    parts.push(`prompt ${usage.prompt_tokens} tokens, ${cached} cached`);
  }
  return parts.join(" · ");
}

// Reads an SSE body and calls onData with each event's data.
async function readEvents(body, onData) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true }).replace(/\r\n/g, "\n");
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = event.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trimStart()).join("\n");
      if (data && onData(data) === false) return;
    }
  }
}

function requestBody() {
  const s = state.settings;
  const messages = [];
  if (s.system.trim()) messages.push({ role: "system", content: s.system });
  for (const m of state.messages) {
    if (!m.failed && m.content !== undefined) messages.push({ role: m.role, content: m.content });
  }
  const body = { model: s.model, messages, stream: true, stream_options: { include_usage: true } };
  if (s.temperature !== "") body.temperature = Number(s.temperature);
  if (s.maxTokens !== "") body.max_tokens = Number(s.maxTokens);
  return body;
}

async function send(text) {
  showError("");
  const user = { role: "user", content: text };
  state.messages.push(user);
  renderMessage(user);
  const body = requestBody();
  const answer = { role: "assistant", model: state.settings.model, content: "", reasoning: "", reasoningTokens: 0, stats: "" };
  state.messages.push(answer);
  const node = renderMessage(answer);
  save();

  running = new AbortController();
  ui.send.hidden = true;
  ui.stop.hidden = false;
  const started = performance.now();
  let first = null, last = null, pieces = 0, usage = null;
  try {
    const response = await fetch("/v1/chat/completions", { method: "POST", headers: headers(), body: JSON.stringify(body), signal: running.signal });
    if (!response.ok) {
      const message = await errorText(response);
      if (response.status === 401) askForKey();
      throw new Error(message);
    }
    await readEvents(response.body, (data) => {
      if (data === "[DONE]") return false;
      const chunk = JSON.parse(data);
      if (chunk.error) throw new Error(chunk.error.message || JSON.stringify(chunk.error));
      if (chunk.usage) usage = chunk.usage;
      for (const choice of chunk.choices || []) {
        if (choice.index !== 0 || !choice.delta) continue;
        const { reasoning_content: r, content: c } = choice.delta;
        if (!r && !c) continue;
        const now = performance.now();
        if (first === null) first = now;
        last = now;
        pieces++;
        if (r) { answer.reasoning += r; answer.reasoningTokens++; }
        if (c) answer.content += c;
      }
      updateMessage(node, answer);
      node.scrollIntoView({ block: "end" });
      return true;
    });
    const end = performance.now();
    const tokens = usage ? usage.completion_tokens : pieces;
    // Generation speed after the first token; the wait for the first token (the prompt's prefill) is the TTFT.
    const rate = tokens > 1 && last > first ? (tokens - 1) / ((last - first) / 1000) : tokens / Math.max((end - started) / 1000, 1e-6);
    answer.stats = statsText(usage, (first ?? end) - started, rate, pieces);
  } catch (e) {
    // A failed or stopped turn stays on screen but is not sent again: the question goes with its missing answer.
    answer.failed = true;
    user.failed = true;
    answer.stats = e.name === "AbortError" ? "stopped" : "failed";
    if (e.name !== "AbortError") showError(String(e.message || e));
  } finally {
    running = null;
    ui.send.hidden = false;
    ui.stop.hidden = true;
    updateMessage(node, answer);
    save();
  }
}

function bindSetting(input, name) {
  input.value = state.settings[name] ?? "";
  input.addEventListener("input", () => { state.settings[name] = input.value; save(); });
}

bindSetting(ui.system, "system");
bindSetting(ui.temperature, "temperature");
bindSetting(ui.maxTokens, "maxTokens");
ui.model.addEventListener("change", () => { state.settings.model = ui.model.value; save(); });
ui.newChat.addEventListener("click", () => { state.messages = []; save(); renderAll(); showError(""); });
ui.stop.addEventListener("click", () => running && running.abort());
ui.keyDialog.addEventListener("submit", (e) => {
  e.preventDefault();
  sessionStorage.setItem(KEY_KEY, ui.apiKey.value.trim());
  ui.apiKey.value = "";
  loadModels();
});
ui.composer.addEventListener("submit", (e) => {
  e.preventDefault();
  const text = ui.message.value;
  if (!text.trim() || running) return;
  if (!ui.model.value) { showError("No model to send to: the model list has not loaded."); return; }
  ui.message.value = "";
  send(text);
});
ui.message.addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    ui.composer.requestSubmit();
  }
});

renderAll();
loadModels().catch((e) => showError("Cannot reach the server: " + e.message));
