"""Calamine loads a sheet in a thread while the pre-scan's semantic pass runs, and only once its safety pass
has passed: a sheet that would make calamine allocate too much or misplace rows never reaches it, and a sheet
refused only for its values (or one calamine cannot load) still gives our reader's rows."""

import threading
import time

import pytest
from python_calamine import CalamineWorkbook

from spreadsheets import xlsx_fast
from spreadsheets.cells import FORMULA_WITHOUT_VALUE
from tests.spreadsheets import test_xlsx_fast
from tests.spreadsheets.test_xlsx_fast import STYLES, both_readers, cells, sheet

paths = test_xlsx_fast.paths  # the fixture: the reader each sheet's rows went through

# Plenty of ordinary rows first, read in small pieces: a refusal in the last piece comes long after the
# first pieces passed, so starting calamine before the whole safety pass were done would be seen.
ORDINARY = "".join(cells(n, f'<c r="G{n}"><v>{n}</v></c>') for n in range(2, 300))
LATE = 300

SAFETY = {
    "a cell past the header, past Z": cells(LATE, f'<c r="AA{LATE}"><v>1</v></c>'),
    "a cell at the last column": cells(LATE, f'<c r="XFD{LATE}"><v>1</v></c>'),
    "a cell at the last row": '<row r="1048576"><c r="A1048576"><v>1</v></c></row>',
    "a cell naming another row": f'<row r="{LATE}"><c r="A900000"><v>1</v></c></row>',
    "a cell past the header below the last row": cells(
        LATE, f'<c r="L{LATE}"><v>1</v></c>', '<c r="B150000"><v>1</v></c>'
    ),
    "rows out of order": cells(LATE + 1) + cells(LATE),
    "a repeated row": cells(LATE) + cells(LATE),
    "a cell without a reference": f'<row r="{LATE}"><c t="inlineStr"><is><t>P-1</t></is></c></row>',
    "a row without a number": f'<row><c r="A{LATE}" t="inlineStr"><is><t>P-1</t></is></c></row>',
    "prefixed elements": f'<row r="{LATE}"><x:c r="A{LATE}" xmlns:x="urn:x"><x:v>1</x:v></x:c></row>',
    "a comment": f"<!-- a note -->{cells(LATE)}",
    # Calamine would hold every such text whole before the sheet could be refused (memory, not values).
    "a long inline text": cells(
        LATE, f'<c r="B{LATE}" t="inlineStr"><is><t>' + "长" * 2000 + "</t></is></c>"
    ),
}

SEMANTIC = {
    "an escaped character": cells(LATE, f'<c r="B{LATE}" t="inlineStr"><is><t>a_x000D_b</t></is></c>'),
    "a negative number": cells(LATE, f'<c r="G{LATE}"><v>-5</v></c>'),
    "an ISO date cell": cells(LATE, f'<c r="I{LATE}" t="d"><v>2022-01-02</v></c>'),
    # Calamine itself refuses these two (a CalamineError in its thread), as our pass does.
    "an odd boolean": cells(LATE, f'<c r="D{LATE}" t="b"><v>2</v></c>'),
    "a formula in another shape": cells(LATE, f'<c r="B{LATE}"><f>1+1</f><extLst/></c>'),
    "a duration": cells(LATE, f'<c r="I{LATE}" s="3"><v>58538.433740034</v></c>'),
}


def recorded_loads(monkeypatch, load):
    """The sheets calamine was asked to load (its style probe's aside), with the thread each load ran in;
    then load(original, workbook, name)."""
    monkeypatch.setattr(xlsx_fast, "SCAN_CHUNK", 2000)
    loaded = []
    original = CalamineWorkbook.get_sheet_by_name

    def recording(self, name):
        if name == "S":  # the probe workbook of `styles_agree`
            return original(self, name)
        loaded.append((name, threading.current_thread()))
        return load(original, self, name)

    monkeypatch.setattr(CalamineWorkbook, "get_sheet_by_name", recording)
    return loaded


@pytest.fixture
def loads(monkeypatch):
    return recorded_loads(monkeypatch, lambda original, book, name: original(book, name))


@pytest.fixture
def refused_loads(monkeypatch):
    """As `loads`, but calamine never loads: were the order broken, a test fails instead of the process
    aborting."""

    def refused(original, book, name):
        raise AssertionError("calamine was handed a sheet the safety pass refuses")

    return recorded_loads(monkeypatch, refused)


@pytest.mark.parametrize("case", SAFETY)
def test_a_sheet_the_safety_pass_refuses_late_is_never_loaded_by_calamine(paths, refused_loads, case):
    fast, ours = both_readers(sheet(ORDINARY + SAFETY[case], styles=STYLES))
    assert refused_loads == [] and paths[0] == "expat"
    assert repr(fast) == repr(ours) and len(fast[0][2]) >= 298


@pytest.mark.parametrize("case", SEMANTIC)
def test_a_sheet_refused_only_for_its_values_is_loaded_alongside_and_still_read_by_our_reader(
    paths, loads, case
):
    fast, ours = both_readers(sheet(ORDINARY + SEMANTIC[case], styles=STYLES))
    assert [name for name, _thread in loads] == ["项目"]
    assert paths[0] == "expat" and repr(fast) == repr(ours) and len(fast[0][2]) == 299


def test_formulas_without_a_value_and_errors_found_while_calamine_loads_are_given_as_ours(paths, loads):
    rows = ORDINARY + cells(LATE, f'<c r="B{LATE}"><f>1+1</f></c>', f'<c r="G{LATE}" t="e"><v>#N/A</v></c>')
    rows += f'<row r="{LATE + 5}"><c r="H{LATE + 5}"><f>A1</f><v></v></c></row>'
    fast, ours = both_readers(sheet(rows, styles=STYLES))
    assert paths[0] == "calamine" and len(loads) == 1 and repr(fast) == repr(ours)
    values = dict(fast[0][2])
    assert values[LATE][1] is FORMULA_WITHOUT_VALUE and values[LATE][6] == "#N/A"
    assert values[LATE + 5][7] is FORMULA_WITHOUT_VALUE


def test_the_load_starts_after_the_safety_pass_and_overlaps_the_semantic_pass(paths, monkeypatch):
    events = []
    bounds, values, load = xlsx_fast._check_bounds, xlsx_fast.check_values, CalamineWorkbook.get_sheet_by_name

    def checking_bounds(*args):
        events.append(("bounds", threading.current_thread()))
        result = bounds(*args)
        events.append(("bounds passed", threading.current_thread()))
        return result

    def checking_values(*args):
        events.append(("values", threading.current_thread()))
        time.sleep(0.3)  # the load ends meanwhile
        result = values(*args)
        events.append(("values passed", threading.current_thread()))
        return result

    def loading(self, name):
        events.append(("load", threading.current_thread()))
        sheet = load(self, name)
        events.append(("loaded", threading.current_thread()))
        return sheet

    monkeypatch.setattr(xlsx_fast, "_check_bounds", checking_bounds)
    monkeypatch.setattr(xlsx_fast, "check_values", checking_values)
    monkeypatch.setattr(CalamineWorkbook, "get_sheet_by_name", loading)
    fast, ours = both_readers(sheet(ORDINARY))
    assert paths[0] == "calamine" and repr(fast) == repr(ours)
    order = [event for event, _thread in events]
    assert order[:2] == ["bounds", "bounds passed"]
    assert order.index("load") > 1 and order.index("loaded") < order.index("values passed")
    threads = dict(events)
    assert threads["load"] is threading.current_thread() and threads["values"] is not threads["load"]


def test_a_load_calamine_fails_gives_our_readers_rows(paths, monkeypatch):
    def failing(self, name):
        raise RuntimeError("a part calamine cannot read")

    monkeypatch.setattr(CalamineWorkbook, "get_sheet_by_name", failing)
    fast, ours = both_readers(sheet(ORDINARY))
    assert paths[0] == "expat" and repr(fast) == repr(ours)


@pytest.mark.parametrize("load_fails", [False, True])
def test_the_rows_wait_for_the_semantic_pass_to_end(paths, monkeypatch, load_fails):
    """No check is left running beside our reader or calamine's rows, whether the load fails or not."""
    ended = []
    values = xlsx_fast.check_values

    def slow(*args):
        time.sleep(0.3)
        try:
            return values(*args)
        finally:
            ended.append(True)

    def failing(self, name):
        raise RuntimeError("a part calamine cannot read")

    monkeypatch.setattr(xlsx_fast, "check_values", slow)
    if load_fails:
        monkeypatch.setattr(CalamineWorkbook, "get_sheet_by_name", failing)
    rows = xlsx_fast.FastBook.rows
    seen = []

    def recording(self, *args):
        result = rows(self, *args)
        seen.append(list(ended))
        return result

    monkeypatch.setattr(xlsx_fast.FastBook, "rows", recording)
    for rows_xml in (ORDINARY, ORDINARY + SEMANTIC["an escaped character"]):
        fast, ours = both_readers(sheet(rows_xml))
        assert repr(fast) == repr(ours)
    assert seen == [[True], [True, True]]
    assert paths == (["expat", "expat"] if load_fails else ["calamine", "expat"])
    assert not [thread for thread in threading.enumerate() if thread.name == "xlsx-values-check"]


def test_what_is_no_exception_from_calamines_load_still_propagates(monkeypatch):
    """A Rust panic reaches Python as a BaseException that is no Exception; as before the load moved to a
    thread, it is not taken for an ordinary failure."""

    class Panic(BaseException):
        pass

    def panicking(self, name):
        raise Panic

    monkeypatch.setattr(CalamineWorkbook, "get_sheet_by_name", panicking)
    with pytest.raises(Panic):
        both_readers(sheet(ORDINARY))


def test_a_sheet_with_more_cells_than_calamine_may_hold_starts_neither_the_load_nor_the_check(
    paths, refused_loads, monkeypatch
):
    """As at the row limit: our reader streams it, and nothing beside it holds more memory."""
    checks = []
    values = xlsx_fast.check_values
    monkeypatch.setattr(xlsx_fast, "MAX_READ_CELLS", 500)
    monkeypatch.setattr(xlsx_fast, "check_values", lambda *args: checks.append(1) or values(*args))
    fast, ours = both_readers(sheet(ORDINARY))
    assert paths == ["expat"] and refused_loads == [] and checks == [] and repr(fast) == repr(ours)
