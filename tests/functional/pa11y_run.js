// Run pa11y (HTML_CodeSniffer, WCAG2AA) on pages of a running console and online form.
//
// Reads JSON from stdin: {"chromium": "/usr/bin/chromium", "jobs": [{"name", "url",
// "cookies": [{name, value, url}], "html" (optional: the page as a person left it),
// "actions": [pa11y actions], "viewport": {width, height}}]}
// and writes JSON to stdout: [{"name", "url", "issues": [{code, message, selector, context}],
// "failed": "why pa11y could not check it" or null}], errors only (no warnings, notices).
// One Debian Chromium for every page (puppeteer never downloads one: PUPPETEER_SKIP_DOWNLOAD).
"use strict";

const pa11y = require("pa11y");
const puppeteer = require("puppeteer");

// What this machine's Chromium needs: headless, no sandbox as root, and nothing that
// reaches out to Google's services on a closed network.
const FLAGS = [
  "--no-sandbox", "--headless", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
  "--disable-dev-shm-usage",
];

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString("utf8"));
}

async function check(browser, job) {
  // A context of its own: one role's session cookie never reaches another's page.
  const context = await browser.createBrowserContext();
  try {
    const page = await context.newPage();
    await page.setBypassCSP(true);  // pa11y injects HTML_CodeSniffer; the pages allow 'self' only
    if (job.cookies && job.cookies.length) await page.setCookie(...job.cookies);
    if (job.html !== undefined) {
      // A state reached by clicking and typing (a refused form, a call in progress): the
      // page as the person saw it, served at its own address, its scripts not run again
      // (they ran already; what they made is in the HTML). Styles and images still load.
      await page.setRequestInterception(true);
      page.on("request", (request) => {
        if (request.isInterceptResolutionHandled()) return;
        if (request.isNavigationRequest() && request.url() === job.url) {
          request.respond({ status: 200, contentType: "text/html; charset=utf-8", body: job.html });
        } else if (request.resourceType() === "script") {
          request.abort();
        } else {
          request.continue();
        }
      });
    }
    const results = await pa11y(job.url, {
      browser,
      page,
      runners: ["htmlcs"],
      standard: "WCAG2AA",
      includeNotices: false,
      includeWarnings: false,
      actions: job.actions || [],
      viewport: job.viewport || { width: 1280, height: 900 },
      timeout: 120000,
      log: { debug() {}, error() {}, info() {} },
    });
    return {
      name: job.name,
      url: job.url,
      failed: null,
      issues: results.issues.map((i) => ({
        code: i.code, message: i.message, selector: i.selector, context: i.context,
      })),
    };
  } catch (error) {
    return { name: job.name, url: job.url, failed: String(error && error.message || error), issues: [] };
  } finally {
    await context.close();
  }
}

(async () => {
  const input = await readStdin();
  const browser = await puppeteer.launch({
    executablePath: input.chromium || "/usr/bin/chromium",
    headless: true,
    args: [...FLAGS, `--user-data-dir=${input.profile || "/tmp/pa11y-profile"}`],
  });
  const out = [];
  try {
    for (const job of input.jobs) out.push(await check(browser, job));
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify(out));
})().catch((error) => {
  process.stderr.write(`pa11y_run: ${error && error.stack || error}\n`);
  process.exit(2);
});
