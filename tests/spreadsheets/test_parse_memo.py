"""A column remembers the parse of the cells it has seen: a repeated cell parses as the first did, a bad cell is
reported on every row that holds it, and the memory a column keeps stays bounded however long the sheet."""

from collections import deque
from datetime import UTC, date, datetime, timedelta, timezone

from projects.importers import FacilityOutputImporter, ProjectImporter
from spreadsheets import importer as engine
from spreadsheets.cells import MEMO_LIMIT, LongText, RawSheet
from spreadsheets.importer import ImportContext


def parsed(cls, rows):
    """The parsed rows and the errors (row, column header) of a sheet of `rows` (cells per column)."""
    sheet = cls(ImportContext(None))
    raw = RawSheet(cls.sheet_title(), cls.headers(), [(n, row) for n, row in enumerate(rows, start=2)])
    result = [row.as_dict() for _n, row in sheet.parse_rows(raw)]
    return result, [(error.row, error.column) for error in sheet.errors]


def project(**cells):
    row = dict(zip([c.name for c in ProjectImporter.columns], ProjectImporter.example_row(), strict=True))
    return list({**row, **cells}.values())


def test_equal_cells_of_different_types_are_each_parsed_as_their_own():
    # 1, 1.0 and True are one key of a dict; as cells they differ: True is no amount, and is text "True".
    cells = [1, True, 1.0, True, 1]
    rows, errors = parsed(ProjectImporter, [project(budget_wan=v, name=v) for v in cells])
    assert [row["budget_wan"] for row in rows] == ["10000.00", None, "10000.00", None, "10000.00"]
    assert [row["name"] for row in rows] == ["1", "True", "1", "True", "1"]
    assert errors == [(3, "援助金额（万元）"), (5, "援助金额（万元）")]


def test_a_text_cut_short_is_refused_after_the_same_text_was_accepted():
    text = "x" * 60
    rows, errors = parsed(ProjectImporter, [project(code=text[:50]), project(code=LongText(text[:50]))])
    assert rows[0]["code"] == text[:50] and rows[1]["code"] is None
    assert errors == [(3, "项目编号")]


def test_a_date_cell_and_an_aware_datetime_are_parsed_each_time():
    midnight_in_beijing = datetime(2022, 3, 1, 0, 0, tzinfo=timezone(timedelta(hours=8)))
    same_instant_in_utc = midnight_in_beijing.astimezone(UTC)  # equal, but still 28 February
    cells = [midnight_in_beijing, same_instant_in_utc, date(2022, 3, 1), datetime(2022, 3, 1)]
    rows, errors = parsed(ProjectImporter, [project(start_date=v, end_date=None) for v in cells])
    assert [row["start_date"] for row in rows] == ["2022-03-01", "2022-02-28", "2022-03-01", "2022-03-01"]
    assert errors == []


def test_a_bad_cell_repeated_on_many_rows_is_reported_on_every_row():
    rows, errors = parsed(ProjectImporter, [project(budget_wan="-5", beneficiaries="many")] * 300)
    assert len(errors) == 600
    assert {row for row, _column in errors} == set(range(2, 302))
    assert all(row["budget_wan"] is None and row["beneficiaries"] is None for row in rows)
    # and a good cell after them still parses
    rows, errors = parsed(ProjectImporter, [project(budget_wan="-5")] * 3 + [project(budget_wan="5")])
    assert [row["budget_wan"] for row in rows] == [None, None, None, "50000.00"] and len(errors) == 3


def test_a_repeated_cell_is_parsed_once(monkeypatch):
    calls = []
    original = engine.parse_int
    monkeypatch.setattr(engine, "parse_int", lambda value: calls.append(value) or original(value))
    rows, errors = parsed(FacilityOutputImporter, [["P-1", "F01", 3]] * 1000 + [["P-1", "F01", "3"]] * 1000)
    assert calls == [3, "3"] and errors == []
    assert {row["quantity"] for row in rows} == {3}


def test_a_column_remembers_a_bounded_number_of_cells(monkeypatch):
    # 200,000 distinct quantities, then the same again: a column that remembered them all would parse none of
    # the second half; a bounded one remembers MEMO_LIMIT of them at most.
    calls = []
    original = engine.parse_int
    monkeypatch.setattr(engine, "parse_int", lambda value: calls.append(value) or original(value))
    distinct = 200_000
    sheet = FacilityOutputImporter(ImportContext(None))
    cells = [("P-1", "F01", n) for n in range(distinct)] * 2
    raw = RawSheet(sheet.sheet_title(), sheet.headers(), [(n, row) for n, row in enumerate(cells, start=2)])
    (last,) = deque(sheet.parse_rows(raw), maxlen=1)  # streamed: the parsed rows are not kept here
    assert last[1]["quantity"] == distinct - 1 and sheet.errors == []
    assert len(calls) >= 2 * distinct - MEMO_LIMIT


def test_a_sheet_that_reads_its_cells_its_own_way_is_asked_for_every_cell():
    class Counting(FacilityOutputImporter):
        calls = 0

        def parse_cell(self, column, value):
            Counting.calls += 1
            return super().parse_cell(column, value)

    rows, errors = parsed(Counting, [["P-1", "F01", 3]] * 10)
    assert Counting.calls == 30 and errors == [] and rows[-1]["quantity"] == 3
