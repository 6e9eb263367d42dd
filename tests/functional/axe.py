"""Accessibility checks for browser tests: axe-core run in the page, and the 800 px layout rule."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"

# WCAG 2.0, 2.1 and 2.2 at levels A and AA, and axe's best practices.
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa", "best-practice"]

NARROW = {"width": 800, "height": 800}

# The innermost elements that stick out of the window or overflow without scrolling.
WIDEST = """() => {
    const w = window.innerWidth;
    const wide = e => e.getBoundingClientRect().right > w + 1 ||
        (e.scrollWidth > w && getComputedStyle(e).overflowX === 'visible');
    const all = [...document.querySelectorAll('body *')].filter(wide);
    const name = e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
        (typeof e.className === 'string' && e.className ? '.' + e.className.trim().split(/ +/).join('.') : '');
    return [document.documentElement.scrollWidth, w,
        all.filter(e => !all.some(o => o !== e && e.contains(o))).slice(0, 5).map(name)];
}"""


@cache
def _source() -> str:
    return AXE.read_text(encoding="utf-8")


def _load(page: Page) -> None:
    # page.evaluate goes through DevTools, which the console's CSP (script-src 'self')
    # does not govern, unlike an injected <script> tag.
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(_source())


def _scripts_off(page: Page) -> bool:
    # Playwright keeps a context's options only on its implementation object.
    options = getattr(page.context, "_impl_obj", None)
    return getattr(options, "_options", {}).get("javaScriptEnabled") is False


def violations(page: Page) -> list[dict[str, Any]]:
    """Run axe-core on the page as it is now; return its violations.

    With JavaScript off no timer fires in the page, so axe (which awaits timers) would wait
    for ever: the page's HTML is then checked in a twin page, at the same address, whose
    own scripts are blocked, so it is the page a reader without JavaScript sees.
    """
    if _scripts_off(page):
        browser = page.context.browser
        assert browser is not None
        html, url = page.content(), page.url
        context = browser.new_context(viewport=page.viewport_size)
        try:
            twin = context.new_page()
            twin.route("**/*.js", lambda route: route.abort())
            if url.startswith("http"):
                twin.route(
                    lambda address: address == url,
                    lambda route: route.fulfill(
                        status=200, body=html, content_type="text/html; charset=utf-8"
                    ),
                )
                twin.goto(url)
            else:
                twin.set_content(html)
            return violations(twin)
        finally:
            context.close()
    _load(page)
    result: dict[str, Any] = page.evaluate(
        """async tags => {
            const r = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
            return {violations: r.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                targets: v.nodes.map(n => n.target.join(' ')),
            }))};
        }""",
        TAGS,
    )
    return list(result["violations"])


def describe(found: list[dict[str, Any]]) -> str:
    lines = []
    for v in found:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']}")
        lines.extend(f"    {target}" for target in v["targets"])
    return "\n".join(lines)


def assert_accessible(page: Page, context: str = "") -> None:
    """Fail, listing each rule broken and where, if axe-core finds any violation on the page."""
    found = violations(page)
    if found:
        where = f" on {context}" if context else ""
        raise AssertionError(
            f"axe-core found {len(found)} accessibility violation(s){where} ({page.url}):\n"
            + describe(found)
        )


def assert_no_sideways_scroll(page: Page, context: str = "") -> None:
    """Fail if the page is wider than its window (set the viewport to ``NARROW`` first)."""
    width, inner, wide = page.evaluate(WIDEST)
    if width > inner:
        where = f" on {context}" if context else ""
        raise AssertionError(
            f"the page scrolls sideways{where} ({page.url}): {width}px wide in a {inner}px "
            f"window; widest elements: {', '.join(wide)}"
        )
