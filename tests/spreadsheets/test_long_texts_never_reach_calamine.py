"""A text longer than any column takes is refused by the pre-scan's safety pass, before calamine is handed the
sheet: calamine would hold every such text whole (a 3.8 MB upload of 12 rows of 20 MB texts, within the zip
ratio check, cost 382 MB of memory when only the values' pass refused them, against 111 MB when the safety
pass does); our reader caps each text as it streams."""

from tests.spreadsheets.test_xlsx_fast import STYLES, both_readers, cells, sheet
from tests.spreadsheets.test_xlsx_fast_overlap import recorded_loads

paths = __import__("tests.spreadsheets.test_xlsx_fast", fromlist=["paths"]).paths


def test_a_sheet_of_texts_longer_than_the_cap_is_not_handed_to_calamine(paths, monkeypatch):
    loads = recorded_loads(monkeypatch, lambda original, book, name: original(book, name))
    long = "长" * 200_000  # far past the cap: what calamine would hold whole, however many rows
    rows = "".join(cells(n, f'<c r="B{n}" t="inlineStr"><is><t>{long}</t></is></c>') for n in range(2, 12))
    fast, ours = both_readers(sheet(rows, styles=STYLES))
    assert repr(fast) == repr(ours)
    assert loads == [], "calamine loaded every long text before the semantic pass refused the sheet"
