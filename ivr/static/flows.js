// The operations team's flow pages: the YAML editor, confirmations and the test phone.
"use strict";

// The YAML editor: CodeMirror enhances the plain textarea (which works without script),
// and each reported "file:line: what is wrong" jumps the editor to its line.
function flowEditor() {
  const textarea = document.getElementById("flow-text");
  if (!textarea || typeof window.CodeMirror !== "function") return;
  const editor = window.CodeMirror.fromTextArea(textarea, {
    mode: "yaml",
    lineNumbers: true,
    indentUnit: 2,
    tabSize: 2,
    extraKeys: { Tab: (cm) => cm.replaceSelection("  ") },  // YAML indents with spaces only
    screenReaderLabel: "Flow (YAML)",
    lineWrapping: true,  // no sideways scrolling region (keyboard users could not reach it)
    viewportMargin: Infinity,  // the whole file is drawn and the editor grows to fit it
  });
  document.querySelector("label[for=flow-text]")?.addEventListener("click", () => editor.focus());
  let marked = null;
  document.querySelectorAll("a.problem-line").forEach((link) => link.addEventListener("click", (event) => {
    event.preventDefault();
    const line = Math.max(0, Number(link.dataset.line) - 1);
    if (marked !== null) editor.removeLineClass(marked, "wrap", "jumped-line");
    marked = editor.addLineClass(line, "wrap", "jumped-line");
    editor.focus();
    editor.setCursor({ line, ch: 0 });
    // The editor grows with the file, so the page scrolls to the line.
    window.scrollBy(0, editor.charCoords({ line, ch: 0 }, "window").top - window.innerHeight / 3);
  }));
  window.flowEditor = editor;  // for people (and tests) poking at the page
}

// Forms that change what callers hear ask first.
function confirmations() {
  document.querySelectorAll("form[data-confirm]").forEach((form) => form.addEventListener("submit", (event) => {
    if (!window.confirm(form.dataset.confirm)) event.preventDefault();
  }));
}

// The test phone: walks a flow version step by step through the server's own engine.
function testPhone() {
  const phone = document.getElementById("test-phone");
  if (!phone) return;
  const transcript = document.getElementById("phone-transcript");
  const waiting = document.getElementById("phone-waiting");
  const prompts = document.getElementById("phone-prompts");
  const drafts = document.getElementById("phone-drafts");
  let state = null;

  function line(text, kind, audio) {
    const item = document.createElement("li");
    item.textContent = text;
    if (kind) item.className = kind;
    if (audio) {
      const player = document.createElement("audio");
      player.controls = true;
      player.preload = "none";
      player.src = audio;
      player.setAttribute("aria-label", `Play ${text}`);
      item.append(" ", player);
    }
    transcript.appendChild(item);
  }

  async function send(body) {
    const response = await fetch(phone.dataset.url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": phone.dataset.csrf },
      body: JSON.stringify({ ...body, state, drafts: drafts ? drafts.checked : true }),
      credentials: "same-origin",
    });
    const answer = await response.json();
    if (answer.error) {
      line(answer.error, "error");
      return;
    }
    state = answer.state;
    answer.heard.forEach((said) => line(`[${said.language}] ${said.text}`, "heard", said.audio));
    waiting.textContent = answer.waiting;
    wanted = answer.digits || 1;
    keyed = "";
    prompts.replaceChildren(...Object.entries(answer.prompts).flatMap(([language, text]) => {
      const term = document.createElement("dt");
      term.textContent = language;
      const detail = document.createElement("dd");
      detail.textContent = text;
      return [term, detail];
    }));
  }

  // At a menu each key goes at once; where the call collects a reference or a PIN the
  // digits are gathered until # (or the most the step takes), as Twilio's Gather does.
  let wanted = 1;
  let keyed = "";
  function press(key) {
    if (!state) return;
    if (wanted > 1) {
      if (key !== "#") keyed += key;
      if (key !== "#" && keyed.length < wanted) {
        waiting.textContent = `${keyed.length} of up to ${wanted} digits keyed, then #`;
        return;
      }
      line(`You key ${keyed.replace(/./g, "•")} #`, "pressed");
      const digits = keyed;
      keyed = "";
      send({ action: "key", key: digits });
      return;
    }
    line(`You press ${key}`, "pressed");
    send({ action: "key", key });
  }

  phone.querySelectorAll("button[data-key]").forEach((button) => button.addEventListener("click", () => {
    press(button.dataset.key);
  }));
  // Typing a digit, * or # while the phone (or a control in it) has focus presses that key.
  phone.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target instanceof HTMLInputElement) return;
    const button = phone.querySelector(`button[data-key="${CSS.escape(event.key)}"]`);
    if (!button) return;
    event.preventDefault();
    button.classList.add("pressed");
    setTimeout(() => button.classList.remove("pressed"), 150);
    press(button.dataset.key);
  });
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
}

document.addEventListener("DOMContentLoaded", () => {
  flowEditor();
  confirmations();
  testPhone();
});
