"""The HTML report as a person sees it, in Debian's headless Chromium driven by Playwright: the
counts, a verdict filter that hides the other verdicts, a case's P | C | S side-by-side with the
differing field highlighted and the loss that explains it, hostile case content shown as text and
never run, no console errors, and no request but the page itself.

Playwright drives the system's ``/usr/bin/chromium`` (``.ci/run`` installs it); it never downloads
a browser of its own.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from migrator.replay.outputs import write_outputs
from tests.test_replay_outputs import META, case, sample_results, write_run

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-sync"]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK), reason=f"{CHROMIUM} is not installed (apt-get install chromium; .ci/run does)"),
]
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (it is in the test extra)")


class Watched:
    """A page with everything it logged and fetched."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.console: list[str] = []
        self.requests: list[str] = []
        page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: self.console.append(f"pageerror: {e}"))
        page.on("request", lambda r: self.requests.append(r.url))

    def rows(self, verdict: str | None = None) -> list[Any]:
        selector = "#case-table tr.case-row" + (f'[data-verdict="{verdict}"]' if verdict else "")
        return [row for row in self.page.query_selector_all(selector) if row.is_visible()]

    def click_case(self, case_id: str) -> None:
        self.page.locator("#case-table tr.case-row", has=self.page.locator("td.id", has_text=case_id)).first.click()

    def count(self) -> int:
        return int(self.page.locator("#case-table tr.case-row:visible").count())

    def open(self, case_id: str) -> Any:
        self.click_case(case_id)
        detail = self.page.locator("#case-table tr.detail").last
        detail.wait_for(state="visible")
        return detail


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    root = tmp_path_factory.mktemp("report")
    before = write_run(root / "before", [case("greet", "divergent"), case("tool-args")])
    out = write_run(root / "run", sample_results())
    summary = write_outputs(out, meta=META, baseline=before)
    return out / "report.html", summary


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any, report: tuple[Path, dict[str, Any]]) -> Iterator[Watched]:
    context = browser.new_context(viewport={"width": 1300, "height": 900})
    watched = Watched(context.new_page())
    watched.page.goto(report[0].as_uri())
    watched.page.wait_for_selector("#case-table tr.case-row")
    yield watched
    assert watched.console == [], watched.console  # the page's own script and styles run under its CSP without a complaint
    assert watched.requests == [report[0].as_uri()], watched.requests  # nothing fetched but the page
    context.close()


def test_the_counts_at_the_top_are_the_run_s(page: Watched, report: tuple[Path, dict[str, Any]]) -> None:
    summary = report[1]
    counts = page.page.locator("#counts")
    assert counts.is_visible()
    assert counts.locator('[data-count="cases"]').inner_text() == "8"
    for verdict, n in summary["verdicts"].items():
        assert counts.locator(f'[data-count="{verdict}"]').inner_text() == str(n)
    assert page.page.title().startswith("migrator replay: 4 divergent, 2 error, 8 cases")
    assert len(page.rows()) == 8
    assert page.page.locator("#latency svg").count() == 3  # ttft and total p50/p95, and the histogram
    stats = page.page.locator("#field-stats").inner_text()
    assert "P≠C (raw)" in stats and "text" in stats
    baseline = page.page.locator("#baseline").inner_text()
    assert "2 case(s) changed verdict" in baseline and "greet" in baseline and "tool-args" in baseline


def test_a_verdict_filter_hides_the_other_verdicts(page: Watched) -> None:
    page.page.click('button.verdict-filter[data-verdict="divergent"]')
    shown = page.rows()
    assert len(shown) == 4 and {row.get_attribute("data-verdict") for row in shown} == {"divergent"}
    assert page.rows("equivalent") == [] and page.rows("error") == []
    page.page.click('button.verdict-filter[data-verdict="error"]')
    assert [row.query_selector("td.id").inner_text() for row in page.rows()] == ["bad-request", "no-translation"]
    page.page.click('button.verdict-filter[data-verdict="all"]')
    assert len(page.rows()) == 8


def test_field_explained_and_search_filters(page: Watched) -> None:
    page.page.select_option("#field-filter", "tool_calls")
    assert [row.query_selector("td.id").inner_text() for row in page.rows()] == ["tool-args"]
    page.page.select_option("#field-filter", "")
    page.page.select_option("#explained-filter", "explained")
    assert [row.query_selector("td.id").inner_text() for row in page.rows()] == ["stop-dropped"]
    page.page.select_option("#explained-filter", "unexplained")
    assert len(page.rows()) == 3
    page.page.select_option("#explained-filter", "")
    page.page.fill("#search", "corpus.jsonl:4")
    assert [row.query_selector("td.id").inner_text() for row in page.rows()] == ["bad-request"]


def test_a_case_opens_side_by_side_with_the_differing_field_highlighted_and_its_loss(page: Watched) -> None:
    detail = page.open("stop-dropped")
    headers = detail.locator("table.side thead th").all_inner_texts()
    assert headers[1:] == ["P: chat", "C: responses (translated)", "S: chat again (noise)"]
    text_row = detail.locator('table.side tr[data-field="text"]')
    assert "diff" in (text_row.get_attribute("class") or "")
    cells = text_row.locator("td").all_inner_texts()
    assert cells == ["1, 2, 3, 4, ", "1, 2, 3, 4, 5, 6, 7, 8, 9, 10", "1, 2, 3, 4, "]
    same_row = detail.locator('table.side tr[data-field="finish"]')
    highlight = text_row.evaluate("e => getComputedStyle(e).backgroundColor")
    plain = same_row.evaluate("e => getComputedStyle(e).backgroundColor")
    assert highlight != plain  # a person sees which row differs
    assert "≠" in text_row.locator("th").inner_text()
    request = detail.locator("table.side tr.request td").all_inner_texts()
    assert "Count to ten." in request[0] and "stop" in request[0] and "stop" not in request[1]
    differences = detail.locator(".differences").inner_text()
    assert "differs because $.stop was dropped in the translation (unsupported): Responses has no stop sequences" in differences
    losses = detail.locator(".losses").inner_text()
    assert "$.stop" in losses and "$.seed" in losses
    page.click_case("stop-dropped")  # a second click closes it
    assert page.page.locator("#case-table tr.detail").count() == 0


def test_an_unexplained_divergence_and_an_error_say_so(page: Watched) -> None:
    detail = page.open("tool-args")
    assert "no translation loss explains this" in detail.locator(".differences").inner_text()
    assert 'get_weather({"city":"Lyon"})' in detail.locator('table.side tr[data-field="tool_calls"]').inner_text()
    detail = page.open("bad-request")
    status = detail.locator('table.side tr[data-field="status"]')
    assert "diff" in (status.get_attribute("class") or "") and status.locator("td").all_inner_texts()[1] == "400"
    assert "invalid_request_error" in detail.locator('table.side tr[data-field="error"]').inner_text()


def test_samples_of_a_repeated_case_can_be_switched(page: Watched) -> None:
    detail = page.open("k3")
    text_cells = detail.locator('table.side tr[data-field="text"] td')
    assert text_cells.all_inner_texts() == ["Bonjour", "Goodbye", "Bonjour!"]
    detail.locator(".samples button", has_text="2").click()
    assert text_cells.all_inner_texts() == ["Bonjour!", "Bye", "Bonjour"]
    assert "PC 0.20, 0.18, 0.25" in detail.locator(".scores").inner_text()


def test_stream_envelope_facts_are_shown(page: Watched) -> None:
    detail = page.open("streamed")
    stream = detail.locator('table.side tr[data-field="stream"] td').all_inner_texts()
    assert "[DONE] yes" in stream[0] and "event: lines yes" in stream[1] and "terminal response.completed" in stream[1]


def test_hostile_case_content_is_shown_as_text_and_never_run(page: Watched) -> None:
    page.page.fill("#search", "hostile")
    rows = page.rows()
    assert len(rows) == 1 and "<script>window.__pwned = 1</script><img src=x" in rows[0].query_selector("td.id").inner_text()
    detail = page.open("hostile")
    assert "<script>window.__pwned = 1</script>" in detail.locator('table.side tr[data-field="text"]').inner_text()
    assert page.page.evaluate("window.__pwned") is None
    assert page.page.locator("img").count() == 0


def _load(browser: Any, path: Path) -> tuple[Any, Watched]:
    context = browser.new_context(viewport={"width": 1300, "height": 900})
    watched = Watched(context.new_page())
    watched.page.goto(path.as_uri())
    watched.page.wait_for_selector("#shown:not(:empty)")
    return context, watched


def test_an_empty_run_s_report_loads_cleanly(browser: Any, tmp_path: Path) -> None:
    out = write_run(tmp_path / "empty", [], [])
    write_outputs(out, meta={})
    context, page = _load(browser, out / "report.html")
    assert page.page.locator('[data-count="cases"]').inner_text() == "0"
    assert page.rows() == [] and page.page.locator("#shown").inner_text().startswith("0 of 0")
    assert page.console == [] and page.requests == [(out / "report.html").as_uri()]
    context.close()


def test_a_large_run_draws_pages_of_rows_and_says_how_many_equivalents_it_holds(browser: Any, tmp_path: Path) -> None:
    results = [case(f"d{i}", "divergent", line=i + 1) for i in range(1200)] + [case(f"e{i}") for i in range(300)]
    out = write_run(tmp_path / "large", results, [])
    write_outputs(out, meta={})
    context, page = _load(browser, out / "report.html")
    assert page.count() == 500
    page.page.click("#more")
    assert page.count() == 1000
    assert "200 of the 300 equivalent ones" in page.page.locator("#capped").inner_text()
    page.page.click('button.verdict-filter[data-verdict="equivalent"]')
    assert page.count() == 200 and page.page.locator("#more").is_hidden()
    assert page.console == []
    context.close()
