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
