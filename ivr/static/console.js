// The console's only script: transcription shortcuts, playback speed and autosave.
// Loaded as a file (the Content-Security-Policy allows no inline script).
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const player = document.querySelector("audio.player");
  const speedNow = document.getElementById("speed-now");

  function setSpeed(rate) {
    if (!player) return;
    player.playbackRate = Math.min(2, Math.max(0.5, Math.round(rate * 100) / 100));
    if (speedNow) speedNow.textContent = player.playbackRate + "×";
  }

  document.querySelectorAll("button[data-speed]").forEach((button) => {
    button.addEventListener("click", () => setSpeed(parseFloat(button.dataset.speed)));
  });

  // The keys transcribers expect; they work while the cursor is in the transcript.
  document.addEventListener("keydown", (event) => {
    if (!player) return;
    const actions = {
      Escape: () => (player.paused ? player.play() : player.pause()),
      F1: () => { player.currentTime = Math.max(0, player.currentTime - 5); },
      F2: () => { player.currentTime = Math.min(player.duration || 0, player.currentTime + 5); },
      F3: () => setSpeed(player.playbackRate - 0.25),
      F4: () => setSpeed(player.playbackRate + 0.25),
    };
    const action = actions[event.key];
    if (action) {
      event.preventDefault();
      action();
    }
  });

  // Autosave the report a moment after the handler stops typing.
  const form = document.getElementById("report-form");
  const state = document.getElementById("autosave-state");
  if (!form || form.dataset.autosave !== "true") return;
  let timer = null;
  async function save() {
    state.textContent = "Saving…";
    try {
      const response = await fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      const answer = await response.json();
      state.textContent = answer.saved ? "Saved" : answer.error;
      const list = document.getElementById("warning-list");
      const section = document.getElementById("warnings");
      if (answer.saved && list && section) {
        list.replaceChildren(...answer.warnings.map((text) => {
          const item = document.createElement("li");
          item.textContent = text;
          return item;
        }));
        section.hidden = answer.warnings.length === 0;
      }
    } catch (error) {
      state.textContent = "Not saved: check the connection";
    }
  }
  form.addEventListener("input", () => {
    state.textContent = "Unsaved changes";
    clearTimeout(timer);
    timer = setTimeout(save, 1500);
  });
});
