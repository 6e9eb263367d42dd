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
    let answer;
    try {
      const response = await fetch(phone.dataset.url, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRFToken": phone.dataset.csrf },
        body: JSON.stringify({ ...body, state, drafts: drafts ? drafts.checked : true }),
        credentials: "same-origin",
      });
      answer = await response.json();
    } catch (error) {
      answer = { error: "the test call got no answer from the server; press Call to start again" };
    }
    if (answer.error) {
      queued.length = 0;  // the keys after it would go to the wrong step
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

  // One step at a time, as on a real call: what is pressed while the server is still
  // answering waits, in order, and goes to the step that answer leads to (sent at once,
  // it would go to the step before, which would say its prompt again and lose the key).
  const queued = [];
  const queue = document.getElementById("phone-queued");
  let busy = false;
  function showQueue() {
    const keys = queued.filter((job) => job.key !== undefined).map((job) => job.key);
    if (queue) queue.textContent = keys.length ? `Pressed while the phone answers, sent next in order: ${keys.join(" ")}` : "";
  }
  async function pump() {
    if (busy) return;
    busy = true;
    while (queued.length) {
      const job = queued.shift();
      showQueue();
      await job.run();
    }
    busy = false;
    showQueue();
  }
  function enqueue(job) {
    queued.push(job);
    showQueue();
    pump();
  }

  // At a menu each key goes at once; where the call collects a reference or a PIN the
  // digits are gathered until # (or the most the step takes), as Twilio's Gather does.
  let wanted = 1;
  let keyed = "";
  function press(key) {
    enqueue({ key, run: () => pressNow(key) });
  }
  function pressNow(key) {
    if (!state) return undefined;
    if (wanted > 1) {
      if (key !== "#") keyed += key;
      if (key !== "#" && keyed.length < wanted) {
        waiting.textContent = `${keyed.length} of up to ${wanted} digits keyed, then #`;
        return undefined;
      }
      line(`You key ${keyed.replace(/./g, "•")} #`, "pressed");
      const digits = keyed;
      keyed = "";
      return send({ action: "key", key: digits });
    }
    line(`You press ${key}`, "pressed");
    return send({ action: "key", key });
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
      queued.length = 0;  // a new call: what was waiting belonged to the old one
      enqueue({ run: () => {
        state = null;
        keyed = "";
        transcript.replaceChildren();
        return send({});
      } });
      return;
    }
    enqueue({ run: () => {
      if (!state) return undefined;
      line({ timeout: "You press nothing", speak: "You speak, then press #", silence: "You say nothing" }[action], "pressed");
      return send(action === "timeout" ? { action: "key", key: "" } : { action });
    } });
  }));
}

// A diagram wider than its frame opens at its middle, where dot puts the call's start.
function diagramFrames() {
  document.querySelectorAll(".diagram-frame").forEach((frame) => {
    const image = frame.querySelector("img");
    const centre = () => { frame.scrollLeft = (frame.scrollWidth - frame.clientWidth) / 2; };
    if (image && image.complete) centre();
    else image?.addEventListener("load", centre, { once: true });
  });
}

document.addEventListener("DOMContentLoaded", () => {
  flowEditor();
  confirmations();
  testPhone();
  diagramFrames();
});
