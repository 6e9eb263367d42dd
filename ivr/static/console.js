// Every console page: forget any text a report page kept for this tab when its user signs out.
// The report page's own script is report.js. Loaded as a file: the CSP allows no inline script.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll('form[action$="/sign-out"]').forEach((form) => {
    form.addEventListener("submit", () => {
      try {
        for (const key of Object.keys(sessionStorage)) {
          if (key.startsWith("ivr-unsaved:")) sessionStorage.removeItem(key);
        }
      } catch (error) {
        // Storage refused (a private mode): there is nothing kept to forget.
      }
    });
  });
});

// Once every page script has wired its listeners (they all run on DOMContentLoaded, and a
// timer fires after the last of them), say so: a browser test acts only on a ready page.
document.addEventListener("DOMContentLoaded", () => {
  setTimeout(() => { document.documentElement.dataset.ready = "true"; });
});

// A copy button beside a read-only field (an enrolment link): shown only where the
// clipboard can be written; without it, the field itself is the fallback (select, copy).
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("button[data-copy]").forEach((button) => {
    const field = document.getElementById(button.dataset.copy);
    const state = document.getElementById("copy-state");
    if (!field || !navigator.clipboard) return;
    button.hidden = false;
    button.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(field.value);
        if (state) state.textContent = "Copied.";
      } catch (error) {
        field.focus();
        field.select();
        if (state) state.textContent = "Could not copy: the link is selected, press Ctrl+C.";
      }
    });
  });
});
