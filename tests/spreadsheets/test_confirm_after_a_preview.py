"""A confirm after its preview, whatever happened in between: records edited, moved out of the user's
province or added, a table changed by a new release, a staging made by an earlier release; and the COPY
lines a preview stages, formatted exactly as each value was before (the second reader's probes)."""

import json
import random
import zlib
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from django.db import connection

from projects.importers import DisbursementImporter, FacilityOutputImporter, ProjectImporter
from projects.models import Disbursement, FacilityOutput, FacilityType, Project
from spreadsheets.cells import Pending
from spreadsheets.pg_copy import _COPY_FORMAT, NewRows, copy_text
from spreadsheets.reading import open_file
from spreadsheets.services import confirm_import, preview_import, run, select_sheets
from spreadsheets.staging import _line, dependency_stamp
from tests.conftest import make_agreement, make_project
from tests.spreadsheets.helpers import PROJECT_HEADERS, project_row, xlsx

PAYMENT_HEADERS = ["项目编号", "拨付日期", "拨付金额（万元）", "凭证号"]
on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY needs PostgreSQL")


@pytest.fixture
def agreement(db):
    return make_agreement("BJ-1", province="110000", recipient="653200")


# -- a stale row is named as the clerk wrote its key, not by database ids ------------------------------------


def test_stale_payment_is_named_by_its_project_code_not_its_database_id(agreement, national):
    project = make_project("P-1", agreement)
    payment = Disbursement.objects.create(project=project, date=date(2022, 4, 1), amount=1, reference="PZ-1")
    book = xlsx(
        {"资金拨付": [PAYMENT_HEADERS, ["P-1", "2022-04-15", 1, "PZ-1"], ["P-1", "2022-04-16", 2, "PZ-2"]]}
    )
    record = preview_import(book, "d.xlsx", national, importers=[DisbursementImporter])
    assert record.outcome == "previewed", record.errors
    payment.amount = 5
    payment.save()  # someone edits the payment: the Disbursement table is no dependency, the stamp holds
    record, outcome = confirm_import(record, national)
    assert not outcome.revalidated and not outcome.written
    # Before fb9f7e8 the clerk read "资金拨付 P-1 / PZ-1"; now the project's database id.
    assert "P-1 / PZ-1" in record.message, record.message


def test_stale_facility_output_is_named_by_codes_not_database_ids(agreement, national):
    project = make_project("P-1", agreement)
    kind = FacilityType.objects.order_by("code").first()
    FacilityOutput.objects.create(project=project, facility_type=kind, quantity=1)
    book = xlsx({"建设成果": [["项目编号", "设施类型", "数量"], ["P-1", kind.code, 3]]})
    record = preview_import(book, "f.xlsx", national, importers=[FacilityOutputImporter])
    assert record.outcome == "previewed", record.errors
    FacilityOutput.objects.get().save()  # version bump
    record, outcome = confirm_import(record, national)
    assert not outcome.revalidated and not outcome.written
    assert f"P-1 / {kind.code}" in record.message, record.message


# -- stagings written by an earlier release ------------------------------------------------------------------


class OldStaging:
    """The Staging of 7b80339: [number, parsed row, version, key, values] a row, with the stamp line."""

    def __init__(self, classes, user):
        self.compressor = zlib.compressobj(3)
        self.parts = []
        self._add({"stamp": dependency_stamp(classes, user), "sheets": [cls.label() for cls in classes]})

    def _add(self, value):
        part = self.compressor.compress(_line(value))
        if part:
            self.parts.append(part)

    def sheet(self, cls):
        self._add({"sheet": cls.label()})

    def rows(self, rows, importer):
        versions = importer.versions
        resolved = {number: (key, values) for number, key, values in importer.resolved_rows}
        for number, row in rows:
            key, values = resolved.get(number, (None, None))
            self._add([number, row, versions.get(number), key, values])

    def blob(self):
        self.parts.append(self.compressor.flush())
        return b"".join(self.parts)


def old_preview(book, user, importers):
    record = preview_import(book, "w.xlsx", user, importers=importers)
    assert record.outcome == "previewed", record.errors
    pairs = select_sheets(open_file(book, "w.xlsx"), importers)
    staging = OldStaging([cls for cls, _raw in pairs], user)
    run(pairs, user, dry_run=True, staging=staging)
    record.staged = staging.blob()
    record.save()
    return record


@pytest.mark.parametrize("change", [False, True], ids=["stamp holds", "stamp changed"])
def test_an_old_stamped_staging_still_confirms(agreement, national, change):
    make_project("P-0", agreement)
    book = xlsx(
        {
            "项目": [PROJECT_HEADERS, project_row("P-0", 项目名称="新"), project_row("P-1")],
            "资金拨付": [PAYMENT_HEADERS, ["P-1", "2022-04-15", 1, "PZ-1"]],
        }
    )
    record = old_preview(book, national, [ProjectImporter, DisbursementImporter])
    if change:
        from projects.models import Category

        Category.objects.filter(code="B01").update(name="改")
    record, outcome = confirm_import(record, national)
    assert outcome.written, record.errors
    assert outcome.revalidated == change
    assert Project.objects.get(code="P-0").name == "新"
    assert Disbursement.objects.get().project.code == "P-1"


# -- NewRows.lines against the per-value formatting it replaced ----------------------------------------------


def old_line(new_rows, values):
    """NewRows.add's formatting at 7b80339."""
    row = {**new_rows.defaults, **values}
    for f in new_rows.prepared:
        value = row[f.attname]
        if value is not None and not isinstance(value, (Decimal, date)):
            row[f.attname] = f.get_db_prep_save(value, connection)
    return "\t".join(
        [_COPY_FORMAT.get(type(v), copy_text)(v) for v in (row[f.attname] for f in new_rows.fields)]
    )


POOL = [
    None,
    True,
    False,
    0,
    1,
    -7,
    10**20,
    Decimal("1E+2"),
    Decimal("1.0"),
    Decimal("1.00"),
    Decimal("-0"),
    Decimal("0E-8"),
    Decimal("12345678901234.56"),
    1.5,
    "",
    "a",
    "a\tb",
    "a\\N",
    "\\.",
    "x\ry\nz",
    "\u2028\x0b\x1c",
    "职工书屋",
    date(2022, 3, 1),
    datetime(2022, 3, 1, 8, 30),
    datetime(2022, 3, 1, 8, 30, tzinfo=timezone(timedelta(hours=8))),
]


@on_postgresql
@pytest.mark.parametrize("seed", range(40))
def test_lines_match_the_old_per_value_formatting(db, national, seed):
    rng = random.Random(seed)
    new_rows = NewRows.for_model(Project, national)
    names = [f.attname for f in new_rows.fields]
    rows = []
    for _ in range(rng.randint(1, 6)):
        row = {}
        for name in names:
            if rng.random() < 0.7:
                # one column of one value, or a few values, or any value
                row[name] = rng.choice(POOL[: rng.randint(1, len(POOL))])
        rows.append(row)
    # Decimal/date columns take only what get_db_prep_save accepts there
    for row in rows:
        for f in new_rows.prepared:
            if f.attname in row and not isinstance(row[f.attname], (Decimal, date, type(None))):
                row[f.attname] = Decimal("3") if f.get_internal_type() == "DecimalField" else None
    expected = [old_line(new_rows, row) for row in rows]
    assert new_rows.lines([dict(row) for row in rows]) == expected


@on_postgresql
def test_pending_rows_are_none_and_others_kept(db, national):
    new_rows = NewRows.for_model(Project, national)
    rows = [{"code": "A", "agreement_id": Pending(Project, "X")}, {"code": "B", "agreement_id": 3}]
    out = new_rows.lines(rows)
    assert out[0] is None and out[1] == old_line(new_rows, rows[1])


# -- staged lines survive a text that looks like a staging line ----------------------------------------------


@on_postgresql
def test_names_that_look_like_staging_lines_round_trip(agreement, national):
    names = ['+[1,"x"]\tA', '{"sheet":"projects.project"}', "[2,null]", "\\.", "a\u2028b\u0085c"]
    rows = [project_row(f"P-{n}", 项目名称=name) for n, name in enumerate(names)]
    record = preview_import(
        xlsx({"项目": [PROJECT_HEADERS, *rows]}), "p.xlsx", national, importers=[ProjectImporter]
    )
    assert record.outcome == "previewed", record.errors
    record, outcome = confirm_import(record, national)
    assert outcome.written and not outcome.revalidated
    assert dict(Project.objects.values_list("code", "name")) == {
        f"P-{n}": name for n, name in enumerate(names)
    }


def staged_text(record):
    return zlib.decompress(bytes(record.staged)).decode()


@on_postgresql
def test_staging_holds_copy_lines_for_new_and_json_for_pending(agreement, national):
    book = xlsx(
        {
            "项目": [PROJECT_HEADERS, project_row("P-1")],
            "资金拨付": [PAYMENT_HEADERS, ["P-1", "2022-04-15", 1, "PZ-1"]],
        }
    )
    record = preview_import(book, "w.xlsx", national, importers=[ProjectImporter, DisbursementImporter])
    lines = staged_text(record).splitlines()
    assert lines[2].startswith("+[2,")
    assert json.loads(lines[4])[4]["project_id"] == {"pending": ["projects.project", "P-1"]}


# -- a record whose scope moved one step away since the preview ----------------------------------------------


def test_payments_of_a_project_whose_agreement_left_the_users_province_are_refused(agreement, staff_bj):
    from django.contrib.auth import get_user_model

    from agreements.models import Province

    make_project("P-1", agreement)
    book = xlsx({"资金拨付": [PAYMENT_HEADERS, ["P-1", "2022-04-15", 1, "PZ-1"]]})
    record = preview_import(book, "d.xlsx", staff_bj, importers=[DisbursementImporter])
    assert record.outcome == "previewed", record.errors
    agreement.province = Province.objects.get(code="420000")
    agreement.save()  # the project, and its payments, now belong to Hubei
    record, outcome = confirm_import(record, get_user_model().objects.get(pk=staff_bj.pk))
    assert not outcome.written, (
        outcome.revalidated,
        Disbursement.objects.values_list("reference", flat=True),
    )


PREPARED_POOL = {
    "DecimalField": [None, 5, 0, Decimal("1E+2"), Decimal("2.50"), "7.25", 1.5, True],
    "DateField": [None, date(2022, 1, 2), "2022-03-04", datetime(2022, 3, 1, 8, 30)],
}


@on_postgresql
@pytest.mark.parametrize("seed", range(30))
def test_prepared_columns_match_the_old_formatting(db, national, seed):
    rng = random.Random(seed)
    new_rows = NewRows.for_model(Project, national)
    rows = [{"code": f"C{n}"} for n in range(rng.randint(1, 5))]
    for f in new_rows.prepared:
        pool = PREPARED_POOL[f.get_internal_type()]
        pool = pool[: rng.randint(1, len(pool))]
        for row in rows:
            if rng.random() < 0.8:
                row[f.attname] = rng.choice(pool)
    expected = [old_line(new_rows, dict(row)) for row in rows]
    assert new_rows.lines([dict(row) for row in rows]) == expected


@on_postgresql
def test_a_copy_line_of_a_model_that_changed_since_the_preview_fails_with_a_message(
    agreement, national, monkeypatch
):
    """A deploy between preview and confirm that adds (here: drops) a field of the model: the staged line no
    longer has the table's columns."""
    record = preview_import(
        xlsx({"项目": [PROJECT_HEADERS, project_row("P-1")]}), "p.xlsx", national, importers=[ProjectImporter]
    )
    original = NewRows.__init__

    def fewer(self, model, fields, history_model):
        original(self, model, [f for f in fields if f.attname != "end_date"], history_model)

    monkeypatch.setattr(NewRows, "__init__", fewer)
    record, outcome = confirm_import(
        record, national
    )  # DataError (COPY: extra data after last column): a 500
    assert record.outcome in ("failed", "imported")


@pytest.mark.parametrize("edit", ["changed", "deleted", "added"])
def test_untrusted_confirm_still_compares_the_versions_the_preview_saw(agreement, national, edit):
    from projects.models import Category

    make_project("P-0", agreement)
    book = xlsx({"项目": [PROJECT_HEADERS, project_row("P-0", 项目名称="新"), project_row("P-1")]})
    record = preview_import(book, "p.xlsx", national, importers=[ProjectImporter])
    assert record.outcome == "previewed", record.errors
    if edit == "changed":
        p = Project.objects.get(code="P-0")
        p.name = "别人改的"
        p.save()
    elif edit == "deleted":
        Project.objects.get(code="P-0").delete()
    else:
        make_project("P-1", agreement)
    Category.objects.filter(code="B01").update(name="改")  # the stamp no longer holds
    record, outcome = confirm_import(record, national)
    assert outcome.revalidated and not outcome.written
    assert outcome.stale, record.errors


def test_history_pages_of_a_row_whose_user_is_gone_without_the_orm(
    agreement, national, client, django_user_model
):
    """A user removed while their import was writing (no constraint now holds the user row): the history row keeps
    an id that names no user."""
    clerk = django_user_model.objects.create_user("gone", password="x-password-123")
    agreement.title = "改"
    agreement._history_user = clerk
    agreement.save()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM auth_user WHERE id = %s", [clerk.pk])
    client.force_login(national)
    from django.urls import reverse

    response = client.get(reverse("admin:agreements_agreement_history", args=[agreement.pk]))
    assert response.status_code == 200
    version = agreement.history.order_by("-history_id").first().history_id
    response = client.get(reverse("admin:agreements_agreement_simple_history", args=[agreement.pk, version]))
    assert response.status_code == 200


def _parsed_rows(book, user):
    pairs = select_sheets(open_file(book, "w.xlsx"), [ProjectImporter])
    [(cls, raw)] = pairs
    return [
        (number, list(row))
        for number, row in cls(__import__("spreadsheets.importer").importer.ImportContext(user)).parse(raw)
    ]


@pytest.mark.parametrize("form", ["lines without a stamp", "one JSON document", "versions header"])
def test_stagings_older_than_the_stamp_still_confirm_or_refuse_what_they_cannot_check(
    agreement, national, form
):
    make_project("P-0", agreement)
    book = xlsx({"项目": [PROJECT_HEADERS, project_row("P-0", 项目名称="新"), project_row("P-1")]})
    record = preview_import(book, "w.xlsx", national, importers=[ProjectImporter])
    rows = _parsed_rows(book, national)
    version = Project.objects.get(code="P-0").version
    if form == "one JSON document":
        blob = zlib.compress(json.dumps([["projects.project", rows]]).encode())
    elif form == "versions header":
        text = [
            json.dumps({"versions": {"projects.project": {"2": version}}}),
            json.dumps({"sheet": "projects.project"}),
        ]
        text += [json.dumps([n, row]) for n, row in rows]
        blob = zlib.compress(("\n".join(text) + "\n").encode())
    else:
        text = [json.dumps({"sheet": "projects.project"})]
        text += [json.dumps([n, row, version if n == 2 else None]) for n, row in rows]
        blob = zlib.compress(("\n".join(text) + "\n").encode())
    record.staged = blob
    record.save()
    record, outcome = confirm_import(record, national)
    if form == "one JSON document":
        # The earliest form kept no versions: an update it cannot check is refused, naming the row.
        assert not outcome.written and "P-0" in record.message
        assert not Project.objects.filter(code="P-1").exists()
        return
    assert outcome.written, record.errors
    assert dict(Project.objects.values_list("code", "name")) == {"P-0": "新", "P-1": "项目P-1"}


def test_a_code_taken_in_another_province_after_the_preview_refuses_without_a_crash(agreement, staff_bj):
    from django.contrib.auth import get_user_model

    record = preview_import(
        xlsx({"项目": [PROJECT_HEADERS, project_row("P-9")]}), "p.xlsx", staff_bj, importers=[ProjectImporter]
    )
    assert record.outcome == "previewed", record.errors
    hubei = make_agreement("HB-1", province="420000")
    make_project("P-9", hubei)
    record, outcome = confirm_import(record, get_user_model().objects.get(pk=staff_bj.pk))
    assert not outcome.written and record.outcome == "failed"
    assert [e["message"] for e in record.errors] == ["该编号已被使用。"], record.errors
