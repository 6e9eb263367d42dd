// The live queue: ask for the queue's changing parts every few seconds and swap them in,
// so that a risk to life reaches every supervisor's screen without a reload.
(function () {
  'use strict';
  const table = document.getElementById('queue');
  const urgent = document.getElementById('urgent');
  const rows = document.getElementById('queue-rows');
  const state = document.getElementById('live-state');
  if (!table || !urgent || !rows) return;
  const url = table.dataset.live;
  const every = Number(table.dataset.pollMs) || 2000;
  let lastUrgent = urgent.innerHTML.trim();
  let lastRows = rows.innerHTML.trim();
  let timer = null;

  function say(text) {
    if (state && state.textContent !== text) state.textContent = text;
  }

  async function refresh() {
    timer = null;
    try {
      const response = await fetch(url, {
        headers: { Accept: 'application/json' },
        credentials: 'same-origin',
        redirect: 'manual',
      });
      if (response.type === 'opaqueredirect' || response.status === 401 || response.status === 403) {
        say('Not updating: you were signed out. Reload the page to sign in again.');
        return; // no more polling: the session is over
      }
      if (!response.ok) throw new Error(String(response.status));
      const parts = await response.json();
      const newUrgent = parts.urgent.trim();
      if (newUrgent !== lastUrgent) {
        urgent.innerHTML = parts.urgent;
        urgent.hidden = parts.urgent_count === 0;
        lastUrgent = newUrgent;
      }
      const newRows = parts.rows.trim();
      // Leave the rows alone while someone is using a control in them.
      const busy = rows.contains(document.activeElement);
      if (newRows !== lastRows && !busy) {
        rows.innerHTML = parts.rows;
        lastRows = newRows;
      }
      say('updates by itself');
    } catch (error) {
      say('Not updating: the console cannot be reached. Still trying.');
    }
    schedule();
  }

  function schedule() {
    if (timer === null) timer = window.setTimeout(refresh, every);
  }

  schedule();
})();
