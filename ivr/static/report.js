// The report page: transcription keys on the active player, autosave that never loses words,
// the idle warning, and the sanitisation findings highlighted in the transcript.
// Loaded as a file (the Content-Security-Policy allows no inline script).
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const keys = playerKeys();
  statusStrip();
  const form = document.getElementById("report-form");
  if (!form || form.dataset.autosave !== "true") return;
  const work = new ReportWork(form);
  keys.onTimestamp = (text) => work.insertAtCursor(text);
  new Blockers(form);
});

// --- The status strip and the error summary ---------------------------------------------------

// The strip sticks at the window's top: what scrolls into view must land below it, so its
// height is a CSS variable (scroll-padding, the side column's offset).
function statusStrip() {
  const strip = document.getElementById("status-strip");
  if (strip) {
    const measure = () => document.documentElement.style.setProperty("--strip-height", strip.offsetHeight + "px");
    measure();
    if ("ResizeObserver" in window) new ResizeObserver(measure).observe(strip);
  }
  // A link to a field (in the strip or the error summary) puts the cursor in that field, as
  // GOV.UK's error summary does, instead of only scrolling to it.
  document.addEventListener("click", (event) => {
    const link = event.target.closest("#status-strip a[data-field], #error-summary a[data-field]");
    if (!link) return;
    const target = fieldFor(link.dataset.field);
    if (!target) return;
    event.preventDefault();
    target.focus({ preventScroll: true });
    (target.closest(".field, fieldset") || target).scrollIntoView({ block: "start" });
    history.replaceState(null, "", "#" + link.dataset.field);
  });
  // A refused submission arrives at its reasons: focus them, so they are read out.
  const summary = document.getElementById("error-summary");
  if (summary) summary.focus();
}

function fieldFor(id) {
  if (id === "checks") {
    const boxes = [...document.querySelectorAll("#checks input[name=check]")];
    return boxes.find((box) => !box.checked) || boxes[0] || null;
  }
  return document.getElementById(id);
}

// What still blocks submitting, kept current as the handler works: the fields a submission
// needs (as workflow.NEEDED), the checks ticked, and the findings confirmed.
class Blockers {
  constructor(form) {
    this.form = form;
    this.list = document.getElementById("blocker-list");
    this.title = document.getElementById("blockers-title");
    this.ready = document.getElementById("ready-to-submit");
    this.submitForm = document.getElementById("submit-form");
    if (!this.list) return;
    const update = () => this.update();
    form.addEventListener("input", update);
    form.addEventListener("change", update);
    if (this.submitForm) this.submitForm.addEventListener("change", update);
    new MutationObserver(update).observe(document.getElementById("warning-list"), { childList: true });
    this.update();
  }

  current() {
    const value = (id) => {
      const field = document.getElementById(id);
      return field ? field.value : "";
    };
    const found = [];
    if (!value("transcript")) found.push(["transcript", "Write the transcript"]);
    if (!value("force").trim()) found.push(["force", "Choose the force"]);
    if (!value("handler-category").trim()) found.push(["handler-category", "Choose a category"]);
    if (!value("what").trim()) found.push(["what", "Say what happened"]);
    const boxes = [...document.querySelectorAll("#checks input[name=check]")];
    if (boxes.some((box) => !box.checked)) found.push(["checks", `Tick the ${boxes.length} checks`]);
    const reviewed = document.getElementById("warnings-reviewed");
    const findings = document.querySelectorAll("#warning-list li").length;
    if (findings && reviewed && !reviewed.checked) found.push(["warnings-reviewed", "Confirm the highlights"]);
    return found;
  }

  update() {
    const found = this.current();
    const shown = [...this.list.querySelectorAll("a")].map((a) => a.dataset.field + ":" + a.textContent);
    if (shown.join("|") !== found.map(([field, text]) => field + ":" + text).join("|")) {
      this.list.replaceChildren(...found.map(([field, text]) => {
        const item = document.createElement("li");
        const link = document.createElement("a");
        link.href = "#" + field;
        link.dataset.field = field;
        link.textContent = text;
        item.append(link);
        return item;
      }));
    }
    this.list.hidden = this.title.hidden = found.length === 0;
    this.ready.hidden = found.length > 0;
  }
}

// --- Players and their keys ------------------------------------------------------------------

function playerKeys() {
  const players = [...document.querySelectorAll("audio.player")];
  const speedNow = document.getElementById("speed-now");
  const activeName = document.getElementById("active-player");
  const keys = { onTimestamp: null };
  let active = document.querySelector("audio.report-player") || players[0] || null;

  function choose(player) {
    active = player;
    players.forEach((p) => p.classList.toggle("active-player", p === player));
    if (activeName) activeName.textContent = (player.getAttribute("aria-label") || "the recording").replace(/^R/, "the r");
    if (speedNow) speedNow.textContent = player.playbackRate + "×";
  }
  players.forEach((player) => {
    for (const name of ["focus", "pointerdown"]) player.addEventListener(name, () => choose(player));
    player.addEventListener("play", () => {
      choose(player);
      players.forEach((other) => { if (other !== player && !other.paused) other.pause(); });
    });
  });

  function setSpeed(rate) {
    if (!active) return;
    active.playbackRate = Math.min(2, Math.max(0.5, Math.round(rate * 100) / 100));
    if (speedNow) speedNow.textContent = active.playbackRate + "×";
  }
  document.querySelectorAll("button[data-speed]").forEach((button) => {
    button.addEventListener("click", () => setSpeed(parseFloat(button.dataset.speed)));
  });

  // The keys transcribers expect (as oTranscribe and Express Scribe); they work while typing.
  document.addEventListener("keydown", (event) => {
    if (!active) return;
    const player = active;
    const actions = {
      Escape: () => {
        if (player.paused) return player.play();
        player.pause();
        // Back a little, so that playing again repeats the last words.
        player.currentTime = Math.max(0, player.currentTime - 2);
      },
      F1: () => { player.currentTime = Math.max(0, player.currentTime - 5); },
      F2: () => { player.currentTime = Math.min(player.duration || 0, player.currentTime + 5); },
      F3: () => setSpeed(player.playbackRate - 0.25),
      F4: () => setSpeed(player.playbackRate + 0.25),
    };
    let action = actions[event.key];
    if ((event.ctrlKey || event.metaKey) && !event.altKey && event.key.toLowerCase() === "j") {
      action = () => keys.onTimestamp && keys.onTimestamp(timestamp(player.currentTime));
    }
    if (action) {
      event.preventDefault();
      action();
    }
  });
  return keys;
}

function timestamp(seconds) {
  const whole = Math.floor(seconds || 0);
  const two = (n) => String(n).padStart(2, "0");
  const hours = Math.floor(whole / 3600);
  const clock = two(Math.floor((whole % 3600) / 60)) + ":" + two(whole % 60);
  return "[" + (hours ? hours + ":" + clock : clock) + "] ";
}

// --- The handler's work: autosave, flush on leaving, idle expiry, highlights ---------------------

const SAVE_AFTER_MS = 300;
const RETRY_AFTER_MS = 5000;

class ReportWork {
  constructor(form) {
    this.form = form;
    this.state = document.getElementById("autosave-state");
    this.transcript = document.getElementById("transcript");
    this.storeKey = "ivr-unsaved:" + form.dataset.user + ":" + form.dataset.reference;
    this.saved = null;  // set below, once the fields are known
    this.beaconed = null;
    this.inFlight = null;
    this.timer = null;
    this.failed = false;
    this.signedOut = false;
    this.leaving = false;
    this.idleMs = Number(form.dataset.idleSeconds) * 1000;
    // Two minutes' warning, or half the limit when it is short (a test's).
    this.warnMs = this.idleMs < 240000 ? this.idleMs / 2 : 120000;
    this.lastContact = Date.now();
    this.markedText = this.transcript.value;
    // What the console sent, not what the fields hold now: a change made before this script
    // was wired (a quick handler, a slow machine) must still count as unsaved and be saved.
    this.saved = this.snapshot(this.defaults());
    this.spans = this.initialSpans();
    this.lastCursor = { field: this.transcript, start: this.transcript.selectionStart, end: this.transcript.selectionEnd };

    form.addEventListener("input", () => this.changed());
    form.addEventListener("change", () => this.changed());
    form.addEventListener("submit", (event) => { event.preventDefault(); this.save(); });
    form.addEventListener("focusout", (event) => this.remember(event.target));
    document.querySelectorAll("form").forEach((other) => {
      if (other !== form) other.addEventListener("submit", (event) => this.saveBefore(event, other));
    });
    window.addEventListener("beforeunload", (event) => this.beforeLeaving(event));
    window.addEventListener("pagehide", () => this.flush());
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "hidden") this.flush();
    });
    document.getElementById("warning-list").addEventListener("click", (event) => {
      const button = event.target.closest("button.jump");
      if (button) this.jump(button.dataset.field, Number(button.dataset.start), Number(button.dataset.end), button.querySelector("mark").textContent);
    });
    document.getElementById("stay-signed-in").addEventListener("click", () => this.keepAlive());
    setInterval(() => this.tick(), 1000);
    this.renderMarks();
    this.offerKept();
    this.say("No changes yet");  // the page's own words are for a browser without this script
    this.changed();  // anything changed before the script was ready is saved now
  }

  // Changes and saving.

  values() {
    const values = {};
    for (const [name, value] of new FormData(this.form)) if (name !== "csrf_token") values[name] = value;
    return values;
  }

  // The fields as the page was served: what the console last confirmed it holds.
  defaults() {
    const values = {};
    for (const field of this.form.elements) {
      if (!field.name || field.disabled || field.name === "csrf_token") continue;
      if (field.type === "checkbox" || field.type === "radio") {
        if (field.defaultChecked) values[field.name] = field.value;
      } else if (field.tagName === "SELECT") {
        const chosen = [...field.options].find((option) => option.defaultSelected) || field.options[0];
        if (chosen) values[field.name] = chosen.value;
      } else if (["submit", "button", "reset", "file", "image"].includes(field.type) || field.tagName === "BUTTON") {
        continue;
      } else {
        values[field.name] = field.defaultValue;
      }
    }
    return values;
  }

  // Sorted, so that two readings of the same values compare equal whatever their order.
  snapshot(values = this.values()) {
    return JSON.stringify(Object.entries(values).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  // Unsaved: what the fields hold differs from what the console last confirmed it holds.
  isDirty() {
    return this.snapshot() !== this.saved;
  }

  changed() {
    if (this.signedOut) {
      this.keep("signed-out");  // every word typed after the session ended is kept for this tab
      return;
    }
    if (!this.isDirty()) {
      // Typed back to what the console holds (an undo, say): nothing is unsaved any more.
      if (!this.inFlight && !this.failed && this.state.textContent === "Unsaved changes") {
        clearTimeout(this.timer);
        this.say("Saved");
      }
      return;
    }
    this.say("Unsaved changes");
    this.schedule(SAVE_AFTER_MS);
  }

  schedule(ms) {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.save(), ms);
  }

  say(text) {
    if (this.state.textContent !== text) this.state.textContent = text;
  }

  async save() {
    clearTimeout(this.timer);
    if (this.inFlight) return this.inFlight.then(() => this.save());
    if (!this.isDirty() || this.signedOut) return;
    const sending = this.snapshot();
    const body = new FormData(this.form);
    const transcript = this.transcript.value;
    this.say("Saving…");
    this.lastContact = Date.now();
    this.inFlight = this.post(body, sending, transcript);
    try {
      await this.inFlight;
    } finally {
      this.inFlight = null;
    }
    if (this.isDirty() && !this.signedOut && !this.failed) this.schedule(SAVE_AFTER_MS);
  }

  async post(body, sending, transcript) {
    let response;
    let answer = null;
    try {
      response = await fetch(this.form.action, {
        method: "POST",
        body,
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      if ((response.headers.get("Content-Type") || "").includes("application/json")) answer = await response.json();
    } catch (error) {
      this.failed = true;
      this.say("Not saved: check the connection. Trying again…");
      this.schedule(RETRY_AFTER_MS);
      return;
    }
    if (response.status === 401 || (answer && answer.signed_out)) return this.sessionEnded();
    if (answer && answer.unavailable) {
      // The console's database is down: keep the words in this tab and try again.
      this.failed = true;
      this.keep("unavailable");
      this.say("Not saved: " + answer.error + ". Trying again…");
      this.schedule(RETRY_AFTER_MS);
      return;
    }
    if (!answer) {
      this.failed = true;
      this.say("Not saved: the console did not answer as expected. Trying again…");
      this.schedule(RETRY_AFTER_MS);
      return;
    }
    if (!answer.saved) {
      this.failed = true;
      this.say("Not saved: " + answer.error);
      return;
    }
    this.failed = false;
    this.saved = sending;
    this.say(this.isDirty() ? "Unsaved changes" : "Saved");
    this.markedText = transcript;
    this.spans = answer.highlights || [];
    this.renderFindings();
  }

  // Save first, then let another form (sign out, release, submit) go.
  async saveBefore(event, other) {
    if (!this.isDirty() || this.signedOut) return;
    event.preventDefault();
    await this.save();
    if (!this.isDirty()) {
      this.leaving = true;
      HTMLFormElement.prototype.submit.call(other);  // its button named "submit" hides .submit
    }
  }

  // Leaving the page: send what is unsaved with a beacon, and keep it for this tab as well.
  flush() {
    if (!this.isDirty() || this.signedOut) return this.isDirty();
    const now = this.snapshot();
    if (this.beaconed === now) return true;  // already on its way
    const sent = navigator.sendBeacon(this.form.action, new FormData(this.form));
    if (sent) this.beaconed = now;
    this.keep("left");
    return sent;
  }

  beforeLeaving(event) {
    if (this.leaving || !this.isDirty()) return;
    const sent = this.flush();
    if (this.signedOut || this.failed || !sent || !navigator.onLine) {
      event.preventDefault();
      event.returnValue = "";  // "Leave site? Changes you made may not be saved."
    }
  }

  // Text kept in this tab only (sessionStorage, never localStorage), and dropped once used.

  keep(reason) {
    try {
      sessionStorage.setItem(this.storeKey, JSON.stringify({ reason, values: this.values() }));
    } catch (error) {
      // Storage refused: the beacon (or the warning before leaving) is all there is.
    }
  }

  offerKept() {
    let kept = null;
    try {
      kept = JSON.parse(sessionStorage.getItem(this.storeKey) || "null");
    } catch (error) {
      kept = null;
    }
    if (!kept || !kept.values) return;
    const now = this.values();
    if (Object.keys(kept.values).every((name) => now[name] === undefined || now[name] === kept.values[name])) {
      sessionStorage.removeItem(this.storeKey);  // the beacon got there: nothing to offer
      return;
    }
    const offer = document.getElementById("restore-offer");
    document.getElementById("restore-text").textContent = {
      "signed-out": "You had unsaved text from before you were signed out.",
      unavailable: "You had unsaved text from when the console could not reach its database.",
    }[kept.reason] || "You had unsaved text from when you last left this report.";
    offer.hidden = false;
    document.getElementById("restore-text-button").addEventListener("click", () => {
      for (const [name, value] of Object.entries(kept.values)) {
        const field = this.form.elements.namedItem(name);
        if (field && "value" in field) field.value = value;
      }
      sessionStorage.removeItem(this.storeKey);
      offer.hidden = true;
      this.transcript.focus();
      this.changed();
    }, { once: true });
    document.getElementById("discard-text-button").addEventListener("click", () => {
      sessionStorage.removeItem(this.storeKey);
      offer.hidden = true;
      this.transcript.focus();
    }, { once: true });
  }

  // The session's idle limit: warn, offer to stay, and keep the text if it ends anyway.

  tick() {
    if (this.signedOut) return;
    const idle = Date.now() - this.lastContact;
    const warning = document.getElementById("idle-warning");
    if (idle >= this.idleMs) {
      this.sessionEnded();
      this.leaving = true;
      window.location.assign(document.getElementById("sign-in-again").href);  // clear the screen
    } else if (idle >= this.idleMs - this.warnMs && warning.hidden) {
      const minutes = Math.max(1, Math.round((this.idleMs - idle) / 60000));
      document.getElementById("idle-message").textContent =
        `You will be signed out in about ${minutes} minute${minutes === 1 ? "" : "s"} because nothing has happened for a while.`;
      warning.hidden = false;
    } else if (idle < this.idleMs - this.warnMs && !warning.hidden) {
      warning.hidden = true;
    }
  }

  async keepAlive() {
    const body = new FormData();
    body.append("csrf_token", this.form.elements.namedItem("csrf_token").value);
    const sent = Date.now();
    try {
      const response = await fetch(this.form.dataset.keepAlive, {
        method: "POST",
        body,
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      if (response.status === 401) return this.sessionEnded();
      if (!response.ok) throw new Error(String(response.status));
      this.lastContact = sent;
      document.getElementById("idle-warning").hidden = true;
      this.transcript.focus();
    } catch (error) {
      document.getElementById("idle-message").textContent = "Could not reach the console: check the connection, then try again.";
    }
  }

  sessionEnded() {
    if (this.signedOut) return;
    this.signedOut = true;
    clearTimeout(this.timer);
    if (this.isDirty()) this.keep("signed-out");
    document.getElementById("idle-warning").hidden = true;
    document.getElementById("signed-out").hidden = false;
    this.say("Not saved: you were signed out. Your text is kept in this tab: sign in again.");
  }

  // Findings of the sanitisation checks, highlighted in the transcript.

  initialSpans() {
    return [...document.querySelectorAll("#warning-list button.jump")].map((button) => ({
      field: button.dataset.field,
      start: Number(button.dataset.start),
      end: Number(button.dataset.end),
      kind: button.firstChild.textContent.replace(/:\s*$/, ""),
      text: button.querySelector("mark").textContent,
    }));
  }

  renderFindings() {
    const list = document.getElementById("warning-list");
    list.replaceChildren(...this.spans.map((span) => {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "jump";
      Object.assign(button.dataset, { field: span.field, start: span.start, end: span.end });
      const mark = document.createElement("mark");
      mark.textContent = span.text;
      button.append(span.kind + ": ", mark);
      item.append(button);
      return item;
    }));
    document.getElementById("no-warnings").hidden = this.spans.length > 0;
    this.renderMarks();
  }

  renderMarks() {
    const text = this.markedText;
    const pieces = [];
    let at = 0;
    const spans = this.spans.filter((s) => s.field === "transcript").sort((a, b) => a.start - b.start);
    spans.forEach((span, index) => {
      if (span.start < at || span.end > text.length) return;
      pieces.push(text.slice(at, span.start));
      const mark = document.createElement("mark");
      mark.textContent = text.slice(span.start, span.end);
      mark.title = span.kind;
      mark.dataset.start = span.start;
      pieces.push(mark);
      at = span.end;
    });
    pieces.push(text.slice(at));
    document.getElementById("transcript-marks").replaceChildren(...pieces.filter((p) => p !== ""));
  }

  // Select a finding in its field and bring it into view.
  jump(fieldName, start, end, text) {
    const field = document.getElementById(fieldName);
    if (!field) return;
    if (field.value.slice(start, end) !== text) {  // typed since the check: find it again
      const found = field.value.indexOf(text);
      if (found < 0) return;
      [start, end] = [found, found + text.length];
    }
    field.focus();
    field.setSelectionRange(start, end);
    if (field.tagName === "TEXTAREA") field.scrollTop = Math.max(0, offsetTop(field, start) - field.clientHeight / 3);
    field.scrollIntoView({ block: "nearest" });
    document.querySelectorAll("#transcript-marks mark").forEach((mark) => {
      const current = fieldName === "transcript" && Number(mark.dataset.start) === start;
      mark.classList.toggle("current", current);
      if (current) mark.scrollIntoView({ block: "nearest" });
    });
  }

  // Timestamps go where the handler was typing.
  remember(field) {
    if (field && (field.tagName === "TEXTAREA" || (field.tagName === "INPUT" && field.type !== "hidden"))) {
      this.lastCursor = { field, start: field.selectionStart, end: field.selectionEnd };
    }
  }

  insertAtCursor(text) {
    let field = document.activeElement;
    if (!field || !this.form.contains(field) || !("setRangeText" in field) || field.type === "hidden") {
      field = this.lastCursor.field;
      field.focus();
      field.setSelectionRange(this.lastCursor.start, this.lastCursor.end);
    }
    // insertText keeps the browser's undo history; setRangeText is the fallback.
    if (!document.execCommand("insertText", false, text)) {
      field.setRangeText(text, field.selectionStart, field.selectionEnd, "end");
      field.dispatchEvent(new Event("input", { bubbles: true }));
    }
  }
}

// How far down a textarea the character at ``index`` is, measured on a hidden copy.
function offsetTop(area, index) {
  const probe = document.createElement("div");
  const style = getComputedStyle(area);
  for (const name of ["fontFamily", "fontSize", "fontWeight", "lineHeight", "letterSpacing", "paddingTop", "paddingRight", "paddingBottom", "paddingLeft", "tabSize"]) {
    probe.style[name] = style[name];
  }
  Object.assign(probe.style, {
    position: "absolute", visibility: "hidden", whiteSpace: "pre-wrap", overflowWrap: "break-word",
    boxSizing: "border-box", width: area.clientWidth + "px", top: "0", left: "-9999px",
  });
  probe.textContent = area.value.slice(0, index);
  document.body.append(probe);
  const height = probe.scrollHeight;
  probe.remove();
  return height;
}
