"""The reference tables' filter boxes, in Chromium: typing narrows the rows, clearing
restores them. Contract: `input.filter` boxes; rows are `tbody tr` with ids like
`card-010008`; rows filtered out carry the `hidden` attribute."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import Phone

pytestmark = pytest.mark.browser

CARDS = "reference/cards/index.html"
CARD_ROWS = 'tbody tr[id^="card-"]'
ROW_STATE = """(rows) => rows.map((row) => [row.id, row.hidden, row.hasAttribute("hidden"),
                                          row.getClientRects().length > 0])"""


@pytest.fixture
def cards_page(phone: Phone, built: Path):
    if not (built / CARDS).exists():
        pytest.skip(f"the build has no {CARDS} (the reference appendix is not built)")
    return phone.open(CARDS)


def row_states(page) -> list[tuple[str, bool, bool, bool]]:
    return [tuple(r) for r in page.locator(CARD_ROWS).evaluate_all(ROW_STATE)]


def test_typing_a_card_company_leaves_its_row(phone: Phone, cards_page) -> None:
    page = cards_page
    box = page.locator("input.filter").first
    assert box.is_visible()
    before = row_states(page)
    assert len(before) == 20
    assert all(not hidden and not attr and shown for _, hidden, attr, shown in before)

    box.press_sequentially("현대")
    after = row_states(page)
    assert [rid for rid, _, _, shown in after if shown] == ["card-010008"]
    assert [rid for rid, _, attr, _ in after if not attr] == ["card-010008"]
    assert page.locator("#card-010008").inner_text().count("현대카드") >= 1

    box.fill("")
    assert row_states(page) == before
    assert page.locator(f"{CARD_ROWS}:visible").count() == 20
    assert phone.blocked == []

