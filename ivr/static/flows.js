// The test phone: walks a flow version step by step through the server's own engine.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const phone = document.getElementById("test-phone");
  if (!phone) return;
  const transcript = document.getElementById("phone-transcript");
  const waiting = document.getElementById("phone-waiting");
  const prompts = document.getElementById("phone-prompts");
  let state = null;

  function line(text, kind) {
    const item = document.createElement("li");
    item.textContent = text;
    if (kind) item.className = kind;
    transcript.appendChild(item);
  }

  async function send(body) {
    const response = await fetch(phone.dataset.url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": phone.dataset.csrf },
      body: JSON.stringify({ ...body, state }),
      credentials: "same-origin",
    });
    const answer = await response.json();
    if (answer.error) {
      line(answer.error, "error");
      return;
    }
    state = answer.state;
    answer.heard.forEach((said) => line(`[${said.language}] ${said.text}`, "heard"));
    waiting.textContent = answer.waiting;
    prompts.replaceChildren(...Object.entries(answer.prompts).flatMap(([language, text]) => {
      const term = document.createElement("dt");
      term.textContent = language;
      const detail = document.createElement("dd");
      detail.textContent = text;
      return [term, detail];
    }));
  }

  phone.querySelectorAll("button[data-key]").forEach((button) => button.addEventListener("click", () => {
    if (!state) return;
    line(`You press ${button.dataset.key}`, "pressed");
    send({ action: "key", key: button.dataset.key });
  }));
  phone.querySelectorAll("button[data-action]").forEach((button) => button.addEventListener("click", () => {
    const action = button.dataset.action;
    if (action === "restart") {
      state = null;
      transcript.replaceChildren();
      send({});
      return;
    }
    if (!state) return;
    line({ timeout: "You press nothing", speak: "You speak, then press #", silence: "You say nothing" }[action], "pressed");
    send(action === "timeout" ? { action: "key", key: "" } : { action });
  }));
});
