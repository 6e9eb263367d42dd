"""The accessibility helper itself: it must fail on a page with a known violation."""

from __future__ import annotations

from typing import Any

import pytest

from tests.functional.axe import NARROW, assert_accessible, assert_no_sideways_scroll

pytestmark = pytest.mark.slow

GOOD = """<!doctype html><html lang="en"><head><title>Fine</title></head>
<body><main><h1>Fine</h1><label for="q">Search</label><input id="q"></main></body></html>"""


def test_an_unlabelled_input_is_reported_with_its_rule_and_place(browser: Any) -> None:
    page = browser.new_page()
    page.set_content(GOOD.replace('<label for="q">Search</label>', ""))
    with pytest.raises(AssertionError) as failure:
        assert_accessible(page, "the test page")
    assert "label" in str(failure.value)
    assert "#q" in str(failure.value)
    assert "on the test page" in str(failure.value)


def test_a_clean_page_passes(browser: Any) -> None:
    page = browser.new_page()
    page.set_content(GOOD)
    assert_accessible(page)


def test_a_page_read_with_javascript_off_is_checked_too(browser: Any) -> None:
    # With scripts off no timer fires, so axe cannot run in the page itself; it must
    # still give an answer, and the same answer, rather than wait for ever.
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.set_content(GOOD.replace('<label for="q">Search</label>', ""))
    with pytest.raises(AssertionError, match="label"):
        assert_accessible(page, "a page without JavaScript")
    page.set_content(GOOD)
    assert_accessible(page)
    context.close()


def test_a_page_wider_than_its_window_is_reported(browser: Any) -> None:
    page = browser.new_page(viewport=NARROW)
    page.set_content(GOOD.replace("<h1>Fine</h1>", '<pre id="wide">' + "x" * 400 + "</pre>"))
    with pytest.raises(AssertionError, match=r"scrolls sideways.*pre#wide"):
        assert_no_sideways_scroll(page)
    page.set_content(GOOD)
    assert_no_sideways_scroll(page)


def test_axe_runs_under_the_consoles_content_security_policy(browser: Any, console: Any) -> None:
    # Given the console's sign-in page, which forbids inline script
    page = browser.new_page()
    response = page.goto(f"{console[0]}/console/sign-in")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert_accessible(page, "the sign-in page")

    # When an unlabelled field appears on it, then axe-core, loaded despite the CSP, says so
    page.evaluate("() => document.querySelector('main').append(document.createElement('select'))")
    with pytest.raises(AssertionError, match="select-name"):
        assert_accessible(page)
