"""Second reader's probe: texts longer than the cap are left to the semantic pass, so calamine loads them
whole before the sheet is refused — a few MB upload (zip ratio ~60, within ZIP_MAX_RATIO) of 12 rows each
holding a 20 MB text made the import's peak RSS 382 MB on main against 111 MB at 4795830 (calamine holds every
text; our reader caps each as it streams). Sheet XML may reach `sheet_xml_limit()` (about 410 MB)."""

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
