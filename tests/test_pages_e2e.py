"""End to end: the web kinds' pages in a real browser, as people use them.

Debian's chromium, driven by Playwright, loads each page of the already-built web projects
from their production server: axe-core (tests/data/axe-core, vendored from npm's axe-core)
finds no violation at 375 and 1280 px wide (and in the dark scheme), nothing scrolls
sideways, the browser reports no Content-Security-Policy violation, and screenshots are saved
(into $NEWAPP_SCREENSHOTS when set, else the test's tmp folder; their paths are printed). A
keyboard alone reaches every link, field and button in order, each with a visible focus ring,
skips to the content, and adds an item. Where there is sign-in, a person signs in through the
form, adds an item and signs out, after which the items page asks them to sign in again; a form
posted without its CSRF token is refused.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from projects import (
    FASTAPI_WEB_IO,
    FASTAPI_WEB_PLAIN,
    FLASK_WEB_TYPED,
    Project,
    Variant,
    start,
)
from signin import PASSWORD, USER, ready_sqlite, sign_in
from signin import request as signed_request
from support import Server, stop
from test_generated_e2e import CHROMIUM, CHROMIUM_FLAGS

sync_api = pytest.importorskip("playwright.sync_api", reason="newapp's test extra: playwright")

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore:Dirty template changes"),
    pytest.mark.skipif(CHROMIUM is None, reason="no chromium here (Debian package: chromium)"),
]

AXE = Path(__file__).parent / "data" / "axe-core" / "axe.min.js"
WIDTHS = (375, 1280)
# What each page is checked in: a phone and a laptop, and the dark scheme Pico follows from
# the system's setting (the colours change, the layout does not).
VIEWS = [(375, "light"), (1280, "light"), (1280, "dark")]
HEIGHT = 800
SCREENSHOTS = "NEWAPP_SCREENSHOTS"  # a folder to keep the screenshots in, for people to look at
# An unbroken name as long as the API allows: it must wrap, not widen the page, on a phone.
LONG_NAME = "x" * 100
# Chromium's network confinement from the docs test; Playwright runs it headless itself, and
# these flags are for one-shot --dump-dom runs.
ONE_SHOT = ("--headless", "--dump-dom", "--virtual-time-budget")

# Everything a Tab can land on, in document order, described for the assertion messages.
FOCUSABLE = """() => Array.from(
    document.querySelectorAll('a[href], button, input, select, textarea, [tabindex]')
  ).filter(el => !el.disabled && el.type !== 'hidden' && el.tabIndex >= 0 && el.checkVisibility())
   .map(el => window.describeForTest(el))"""
DESCRIBE = """window.describeForTest = el => {
    const label = el.labels && el.labels.length ? el.labels[0].textContent : el.textContent;
    return `${el.tagName.toLowerCase()} "${label.trim()}"`;
}"""
# The focused element's box, widened by a few pixels for the focus ring around it, clamped to
# the window: where a focus ring must show.
FOCUS_BOX = """() => {
    const box = document.activeElement.getBoundingClientRect();
    const x = Math.max(0, box.x - 6), y = Math.max(0, box.y - 6);
    return {
        x, y,
        width: Math.min(window.innerWidth, box.right + 6) - x,
        height: Math.min(window.innerHeight, box.bottom + 6) - y,
    };
}"""
# The first thing in the main content a Tab can land on.
IN_MAIN = "main :is(a[href], input:not([type=hidden]), textarea, button)"


@dataclass(frozen=True)
class Site:
    """A web project and the pages a person can land on, with the status each answers."""

    variant: Variant
    pages: tuple[tuple[str, int], ...]
    items: bool = True  # a database, so an items page with a form
    form_errors: bool = False  # the items page shows the server's own form errors (a 422 page)
    csrf_refused: int = 403  # the status of a form posted without its CSRF token

    @property
    def auth(self) -> bool:
        """Whether the site has sign-in (users, pages that need a session)."""
        return bool(self.variant.code_answers().get("auth"))


def as_param(name: str, site: Site) -> Any:
    """A site as a test parameter, in its build's xdist group (where the project was built)."""
    return pytest.param(site, id=name, marks=pytest.mark.xdist_group(site.variant.build))


# With sign-in, the pages are seen signed in (the sign-in page too, which still shows its form).
SIGNED_IN_PAGES = (
    ("/", 200),
    ("/pages/items", 200),
    ("/pages/sign-in", 200),
    ("/pages/sign-out", 200),
    ("/no-such-page", 404),
)
FLASK = Site(FLASK_WEB_TYPED, SIGNED_IN_PAGES, form_errors=True, csrf_refused=422)
FASTAPI = Site(FASTAPI_WEB_IO, SIGNED_IN_PAGES)
FASTAPI_NO_DB = Site(FASTAPI_WEB_PLAIN, (("/", 200), ("/no-such-page", 404)), items=False)
SITES = [
    as_param("flask-web", FLASK),
    as_param("fastapi-web", FASTAPI),
    as_param("fastapi-web-no-db", FASTAPI_NO_DB),
]
ITEMS_SITES = SITES[:2]


# --- The browser and the servers ----------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium for this module's tests on this worker; each test gets a fresh context."""
    flags = [flag for flag in CHROMIUM_FLAGS if not flag.startswith(ONE_SHOT)]
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=flags, timeout=60_000)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def sites(
    projects: Callable[[Variant], Project], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[Site], Server]]:
    """Each site's production server on a database of its own, migrated, started on first use
    and stopped when the module ends."""
    started: dict[str, Server] = {}

    def serve(site: Site) -> Server:
        if site.variant.build not in started:
            project = projects(site.variant)
            where = tmp_path_factory.mktemp(f"pages-{site.variant.build}")
            # One for all workers: CSRF tokens, session cookies and access tokens.
            env = {"SECRET_KEY": "pages-e2e-secret-key, thirty-two characters or more"}
            if site.items:
                env["DATABASE_URL"] = ready_sqlite(project, where / "pages.db")
            started[site.variant.build] = start(project, where / "server", **env)
            sign_in(project, started[site.variant.build])  # add_item's token
        return started[site.variant.build]

    yield serve
    for server in started.values():
        stop(server)


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh page (its own cookies) with axe-core and the tests' helper loaded into every
    document."""
    context = browser.new_context(viewport={"width": WIDTHS[-1], "height": HEIGHT})
    # Init scripts run through the DevTools protocol, not as inline <script>s, so the pages'
    # Content-Security-Policy stays in force for everything else.
    context.add_init_script(path=AXE)
    context.add_init_script(DESCRIBE)
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


@pytest.fixture
def complaints(page: Any) -> list[str]:
    """What the browser says against the pages: Content-Security-Policy violations (Chromium
    logs each one it blocks) and uncaught script errors."""
    said: list[str] = []
    page.on(
        "console",
        lambda message: (
            said.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.on("pageerror", lambda error: said.append(f"uncaught: {error}"))
    return said


def screenshot_dir(tmp_path: Path) -> Path:
    folder = Path(os.environ.get(SCREENSHOTS) or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# --- What axe-core and the layout say ----------------------------------------------------------


def axe_violations(page: Any) -> list[str]:
    """Each violation axe-core finds on the page (every rule it runs by default), one line
    each: rule, impact, what it means, and where."""
    result = page.evaluate("axe.run(document)")
    return [
        f"{rule['id']} ({rule['impact']}): {rule['help']} at "
        + ", ".join(" ".join(node["target"]) for node in rule["nodes"])
        for rule in result["violations"]
    ]


def sideways_scroll(page: Any) -> int:
    """How many pixels the page is wider than the window (0: nothing scrolls sideways)."""
    return int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))


def add_item(server: Server, name: str, description: str) -> None:
    """An item of USER's, added through the JSON API (with USER's token, where there is sign-in)."""
    body = json.dumps({"name": name, "description": description}).encode()
    headers = {"Content-Type": "application/json"}
    created = signed_request(server, "POST", "/items", body, headers)
    assert created.status == 201, created.body


def sign_in_with_the_form(page: Any, server: Server, email: str = USER) -> Any:
    """Sign in as a person does: the sign-in page, its form, its button; the answer."""
    page.goto(server.url + "/pages/sign-in")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation() as answered:
        page.locator("main form button").click()
    return answered.value


def enter(page: Any, server: Server, site: Site) -> None:
    """Where the site has sign-in, sign in first: its pages are for signed-in people."""
    if site.auth:
        signed_in = sign_in_with_the_form(page, server)
        assert signed_in is not None and signed_in.status == 200, page.content()[:2000]


@pytest.mark.parametrize("site", SITES)
def test_every_page_passes_axe_and_reads_on_a_phone_and_a_laptop(
    sites: Callable[[Site], Server],
    page: Any,
    complaints: list[str],
    site: Site,
    tmp_path: Path,
) -> None:
    server = sites(site)
    if site.items:  # a list to show, with a name that must wrap
        add_item(server, LONG_NAME, "A description long enough to wrap on a phone's screen.")
    shots = screenshot_dir(tmp_path)
    problems: dict[str, list[str]] = {}

    def check(name: str, width: int, scheme: str) -> None:
        found = axe_violations(page)
        if (extra := sideways_scroll(page)) > 0:
            found.append(f"the page scrolls sideways by {extra} px")
        if found:
            problems[f"{name} at {width} px, {scheme}"] = found
        shot = shots / f"{site.variant.build}-{name}-{width}-{scheme}.png"
        page.screenshot(path=shot, full_page=True, animations="disabled")
        print(f"screenshot: {shot}")

    if site.auth:  # the sign-in form refusing a wrong password, as people see it
        for width, scheme in VIEWS:
            page.set_viewport_size({"width": width, "height": HEIGHT})
            page.emulate_media(color_scheme=scheme)
            refused = sign_in_with_the_form(page, server, "nobody@example.com")
            assert refused is not None and refused.status == 422
            check("sign-in-refused", width, scheme)
    enter(page, server, site)
    for width, scheme in VIEWS:
        page.set_viewport_size({"width": width, "height": HEIGHT})
        page.emulate_media(color_scheme=scheme)
        for path, status in site.pages:
            response = page.goto(server.url + path)
            assert response is not None and response.status == status, path
            check(path.strip("/").replace("/", "-") or "home", width, scheme)
        if site.form_errors:
            page.goto(server.url + "/pages/items")
            # As a browser that does not check `required` itself: the server's own answer.
            page.evaluate("document.querySelector('main form').noValidate = true")
            with page.expect_navigation() as sent:
                page.locator("main form button").click()
            assert sent.value is not None and sent.value.status == 422
            assert page.locator("[aria-invalid=true]").count() == 1
            check("items-form-errors", width, scheme)
    assert problems == {}
    assert complaints == []


# --- The keyboard alone --------------------------------------------------------------------------


def focused(page: Any) -> str:
    return str(page.evaluate("window.describeForTest(document.activeElement)"))


def focus_ring_shows(page: Any) -> bool:
    """Whether the focused element looks different from itself unfocused (in pixels), with
    transitions finished; the element is focused again afterwards."""
    box = page.evaluate(FOCUS_BOX)
    if box["width"] <= 0 or box["height"] <= 0:
        return False  # off screen
    element = page.evaluate_handle("document.activeElement")
    with_focus = page.screenshot(clip=box, animations="disabled")
    element.evaluate("el => el.blur()")
    without = page.screenshot(clip=box, animations="disabled")
    element.evaluate("el => el.focus()")
    return bool(with_focus != without)


@pytest.mark.parametrize("site", SITES)
def test_tab_reaches_everything_in_order_with_a_visible_focus(
    sites: Callable[[Site], Server], page: Any, site: Site
) -> None:
    server = sites(site)
    enter(page, server, site)
    for path, _ in site.pages:
        page.goto(server.url + path)
        expected = page.evaluate(FOCUSABLE)
        assert expected[0] == 'a "Skip to content"', path
        reached, unseen = [], []
        for _ in expected:
            page.keyboard.press("Tab")
            reached.append(focused(page))
            if not focus_ring_shows(page):
                unseen.append(reached[-1])
        assert (path, reached) == (path, expected)
        assert (path, unseen) == (path, [])


@pytest.mark.parametrize("site", SITES)
def test_skip_link_shows_and_jumps_to_the_content(
    sites: Callable[[Site], Server], page: Any, site: Site
) -> None:
    page.goto(sites(site).url + "/")
    page.keyboard.press("Tab")
    assert focused(page) == 'a "Skip to content"'
    top, bottom = page.evaluate(
        "(({top, bottom}) => [top, bottom])(document.activeElement.getBoundingClientRect())"
    )
    assert 0 <= top < bottom <= HEIGHT  # on screen now, not parked above it
    first_in_main = page.evaluate(f"window.describeForTest(document.querySelector({IN_MAIN!r}))")
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert focused(page) == first_in_main


@pytest.mark.parametrize("site", ITEMS_SITES)
def test_an_item_is_added_with_the_keyboard_alone(
    sites: Callable[[Site], Server], page: Any, complaints: list[str], site: Site
) -> None:
    server = sites(site)
    enter(page, server, site)
    page.goto(server.url + "/pages/items")
    for _ in range(10):  # the skip link and the header's links come first
        page.keyboard.press("Tab")
        if focused(page) == 'input "Name"':
            break
    assert focused(page) == 'input "Name"'
    page.keyboard.type("Desk lamp")
    page.keyboard.press("Tab")
    assert focused(page) == 'textarea "Description"'
    page.keyboard.type("Warm light, for late reading.")
    page.keyboard.press("Tab")
    assert focused(page) == 'button "Add"'
    with page.expect_navigation() as answered:
        page.keyboard.press("Enter")
    assert answered.value is not None and answered.value.status == 200
    assert page.url.endswith("/pages/items")
    listed = page.locator("main li").all_inner_texts()
    assert "Desk lamp: Warm light, for late reading." in listed
    assert complaints == []


# --- Signing in and out -----------------------------------------------------------------------


SIGN_IN_SITES = [
    as_param(name, site)
    for name, site in (("flask-web", FLASK), ("fastapi-web", FASTAPI))
    if site.auth
]


@pytest.mark.parametrize("site", SIGN_IN_SITES)
def test_a_person_signs_in_adds_an_item_and_signs_out(
    sites: Callable[[Site], Server], page: Any, complaints: list[str], site: Site
) -> None:
    server = sites(site)
    page.goto(server.url + "/pages/items")
    assert "/pages/sign-in?next=" in page.url  # sent to sign in first
    page.get_by_label("E-mail").fill(USER)
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation() as answered:
        page.locator("main form button").click()
    assert answered.value is not None and answered.value.status == 200
    assert page.url == server.url + "/pages/items"  # and back where they were going
    session = next(c for c in page.context.cookies() if c["name"] == "session")
    assert (session["httpOnly"], session["sameSite"], session["secure"]) == (True, "Lax", True)
    page.get_by_label("Name").fill("Reading glasses")
    with page.expect_navigation():
        page.get_by_role("button", name="Add").click()
    assert "Reading glasses" in page.locator("main ul").inner_text()
    page.get_by_role("link", name="Sign out").click()
    with page.expect_navigation() as signed_out:
        page.locator("main form button").click()
    assert signed_out.value is not None and signed_out.value.status == 200
    assert page.url.startswith(server.url + "/pages/sign-in")
    assert page.get_by_role("link", name="Sign in").count() == 1
    page.goto(server.url + "/pages/items")
    assert "/pages/sign-in?next=" in page.url  # the items page asks to sign in again
    assert "Reading glasses" not in page.content()
    assert complaints == []


@pytest.mark.parametrize("site", SIGN_IN_SITES)
def test_a_form_posted_without_its_csrf_token_is_refused(
    sites: Callable[[Site], Server], page: Any, site: Site
) -> None:
    server = sites(site)
    enter(page, server, site)
    page.goto(server.url + "/pages/items")
    # What a page on another site could post: the fields, without this page's token.
    page.evaluate("document.querySelector('main form input[type=hidden]').remove()")
    page.get_by_label("Name").fill("Forged item")
    with page.expect_navigation() as answered:
        page.get_by_role("button", name="Add").click()
    assert answered.value is not None and answered.value.status == site.csrf_refused
    page.goto(server.url + "/pages/items")
    assert "Forged item" not in page.content()
