"""Real-world files: encodings, header and cell forms, bad files, all or nothing, re-import, history."""

import io
import zipfile
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command

from agreements.models import Agreement
from projects.importers import ProjectImporter
from projects.models import Disbursement, FacilityOutput, Project
from spreadsheets.cells import SpreadsheetError
from spreadsheets.models import ImportRecord
from spreadsheets.services import import_file, import_recorded
from tests.conftest import make_agreement, make_project
from tests.spreadsheets.helpers import (
    AGREEMENT_HEADERS,
    PROJECT_HEADERS,
    both_xlsx_readers,
    csv_bytes,
    project_row,
    xlsx,
)

pytestmark = pytest.mark.usefixtures(both_xlsx_readers.__name__)

PROJECTS = [ProjectImporter]


@pytest.fixture
def bj_agreement(db):
    return make_agreement("BJ-1", province="110000", recipient="653200")


def run_projects(data, name="p.xlsx", user=None, **kwargs):
    return import_file(data, name, user, importers=PROJECTS, **kwargs)


def errors_of(outcome):
    return [(e.row, e.column, e.message) for e in outcome.errors]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "encoding,bom", [("utf-8", False), ("utf-8", True), ("gb18030", False), ("gbk", False)]
)
def test_csv_is_read_in_utf8_with_or_without_bom_and_in_gb18030(bj_agreement, encoding, bom):
    data = csv_bytes([PROJECT_HEADERS, project_row("P-1", 项目名称="职工书屋（喀什）")], encoding)
    if bom:
        data = b"\xef\xbb\xbf" + data
    outcome = run_projects(data, "p.csv")
    assert errors_of(outcome) == []
    assert Project.objects.get(code="P-1").name == "职工书屋（喀什）"


@pytest.mark.django_db
def test_excels_unicode_text_tab_separated_in_utf16_is_read(bj_agreement):
    # Excel's "Unicode text" (Unicode 文本): UTF-16 with BOM, tab-separated; a name with a comma stays whole.
    rows = [PROJECT_HEADERS, project_row("P-1", 项目名称="职工书屋（喀什，一期）")]
    text = "\r\n".join("\t".join("" if v is None else str(v) for v in row) for row in rows) + "\r\n"
    outcome = run_projects(text.encode("utf-16"), "p.txt")
    assert errors_of(outcome) == []
    assert Project.objects.get(code="P-1").name == "职工书屋（喀什，一期）"


@pytest.mark.django_db
def test_english_aliases_half_width_brackets_and_english_sheet_names_are_accepted(bj_agreement):
    headers = ["code", "项目名称 [name]", "协议编号(agreement)", "项目类别", "受援单位", "项目状态"]
    headers += ["援助金额(万元)", "受益人次", "开始日期", "结束日期"]
    outcome = run_projects(xlsx({"Projects": [headers, project_row("P-1")]}))
    assert errors_of(outcome) == []
    assert Project.objects.filter(code="P-1").exists()


@pytest.mark.django_db
def test_the_cell_forms_real_files_have_are_read(bj_agreement):
    rows = [
        PROJECT_HEADERS,
        project_row(
            "\u3000P-1 ", 受援单位=653200, **{"援助金额（万元）": 12.300000000000001}, 开始日期="2022/8/19"
        ),
        project_row(
            "P-2", 受援单位=653200.0, **{"援助金额（万元）": "1,234.567891"}, 开始日期="2022年8月19日"
        ),
        project_row("P-3", 项目状态="in_progress", 开始日期=date(2022, 8, 19), 项目类别="户外劳动者服务站点"),
        project_row("P-4", 项目状态="in progress", 受益人次="1,200", 受援单位="和田地区"),
        [None] * 10,
        [None] * 10,
    ]
    outcome = run_projects(xlsx({"项目": rows}))
    assert errors_of(outcome) == []
    p1, p2, p3, p4 = Project.objects.order_by("code")
    assert p1.code == "P-1" and p1.budget == Decimal("123000.00")
    assert p2.budget == Decimal("12345678.91")
    assert {p.start_date for p in (p1, p2, p3)} == {date(2022, 8, 19)}
    assert p3.status == p4.status == "in_progress" and p3.category.code == "A01"
    assert p4.beneficiaries == 1200 and p4.recipient.code == "653200"


@pytest.mark.django_db
def test_every_bad_cell_is_reported_with_row_column_value_and_reason(bj_agreement):
    rows = [
        PROJECT_HEADERS,
        project_row("P-1", **{"援助金额（万元）": "1.1234567"}),
        project_row("P-2", **{"援助金额（万元）": -5}),
        project_row("P-3", 开始日期="2022-02-30"),
        project_row("P-4", 项目名称=None),
        project_row("P-5", 项目类别="A", 受援单位="999999", 项目状态="进行中"),
        project_row("P-6", 开始日期="2023-01-01", 结束日期="2022-01-01"),
        project_row("P-7", 受益人次=1.5),
    ]
    outcome = run_projects(xlsx({"项目": rows}))
    assert Project.objects.count() == 0
    found = {(row, column) for row, column, _message in errors_of(outcome)}
    assert found == {
        (2, "援助金额（万元）"),
        (3, "援助金额（万元）"),
        (4, "开始日期"),
        (5, "项目名称"),
        (6, "项目类别"),
        (6, "受援单位"),
        (6, "项目状态"),
        (7, "结束日期"),
        (8, "受益人次"),
    }
    assert next(e for e in outcome.errors if e.row == 2).value == "1.1234567"


@pytest.mark.django_db
def test_reasons_are_in_the_users_language(bj_agreement):
    from django.utils import translation

    data = xlsx({"项目": [PROJECT_HEADERS, project_row("P-1", 项目名称=None)]})
    with translation.override("en"):
        assert run_projects(data).errors[0].message == "This field is required."
    with translation.override("zh-hans"):
        message = run_projects(data).errors[0].message
    assert message != "This field is required."


@pytest.mark.django_db
def test_duplicate_keys_inside_one_file_are_errors(bj_agreement):
    rows = [PROJECT_HEADERS, project_row("P-1"), project_row("P-2"), project_row("P-1")]
    outcome = run_projects(xlsx({"项目": rows}))
    assert [(e.row, e.column) for e in outcome.errors] == [(4, "项目编号")]
    assert "2" in outcome.errors[0].message
    assert Project.objects.count() == 0


@pytest.mark.django_db
def test_a_blank_optional_cell_clears_the_field_and_a_second_import_changes_nothing(bj_agreement):
    run_projects(xlsx({"项目": [PROJECT_HEADERS, project_row("P-1")]}))
    assert Project.objects.get().end_date == date(2022, 12, 31)
    cleared = xlsx({"项目": [PROJECT_HEADERS, project_row("P-1", 结束日期=None)]})
    outcome = run_projects(cleared)
    assert outcome.counts["项目"]["updated"] == 1
    assert Project.objects.get().end_date is None
    history = Project.history.count()
    outcome = run_projects(cleared)
    assert outcome.counts["项目"] == {"new": 0, "updated": 0, "unchanged": 1, "errors": 0}
    assert Project.history.count() == history


def make_zip_bomb():
    base = xlsx({"项目": [PROJECT_HEADERS]})
    source = zipfile.ZipFile(io.BytesIO(base))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info, source.read(info))
        target.writestr("xl/media/padding.bin", b"\0" * (60 * 1024 * 1024))
    return out.getvalue()


def encrypted_xlsx():
    # What Excel writes for a password-protected workbook: an OLE file holding an EncryptedPackage stream.
    return (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + b"\0" * 512
        + "EncryptedPackage".encode("utf-16-le")
        + b"\0" * 512
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name,data,expected",
    [
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 1024, ".xlsx"),
        ("renamed.xls", b"PK\x03\x04whatever", ".xlsx"),
        ("locked.xlsx", encrypted_xlsx(), "password"),
        ("broken.xlsx", b"PK\x03\x04" + b"\x13" * 200, "not a valid .xlsx"),
        ("report.xlsx", b"%PDF-1.4 not a workbook", "not a valid .xlsx"),
        ("empty.csv", b"", "empty"),
        ("blank.xlsx", None, "no data rows"),
        ("notes.pdf", b"%PDF-1.4", "Only .xlsx and .csv"),
        ("bomb.xlsx", "bomb", "implausible"),
    ],
)
def test_bad_files_get_a_clear_message_and_change_nothing(name, data, expected):
    from django.utils import translation

    if data is None:
        data = xlsx({"项目": [PROJECT_HEADERS]})
    if data == "bomb":
        data = make_zip_bomb()
    with translation.override("en"), pytest.raises(SpreadsheetError) as caught:
        run_projects(data, name)
    assert expected in caught.value.message
    assert Project.objects.count() == 0


@pytest.mark.django_db
def test_missing_and_unknown_columns_are_named():
    from django.utils import translation

    headers = [h for h in PROJECT_HEADERS if h != "项目类别"] + ["备注"]
    with translation.override("en"), pytest.raises(SpreadsheetError) as caught:
        run_projects(xlsx({"项目": [headers, ["P-1"] * len(headers)]}))
    assert "项目类别" in caught.value.message and "备注" in caught.value.message


@pytest.mark.django_db
def test_files_over_the_size_or_row_limit_are_refused(settings, bj_agreement):
    from django.utils import translation

    settings.AIDTRACKER_IMPORT_MAX_ROWS = 3
    rows = [PROJECT_HEADERS] + [project_row(f"P-{i}") for i in range(4)]
    with translation.override("en"):
        with pytest.raises(SpreadsheetError, match="more than 3 rows"):
            run_projects(xlsx({"项目": rows}))
        with pytest.raises(SpreadsheetError, match="more than 3 rows"):
            run_projects(csv_bytes(rows), "p.csv")
        settings.AIDTRACKER_IMPORT_MAX_ROWS = 200_000
        settings.AIDTRACKER_IMPORT_MAX_BYTES = 1000
        with pytest.raises(SpreadsheetError, match="larger than the limit"):
            run_projects(xlsx({"项目": rows}))
    assert Project.objects.count() == 0


@pytest.mark.django_db
def test_one_bad_row_in_any_sheet_of_a_workbook_writes_nothing_at_all():
    agreements = [
        AGREEMENT_HEADERS,
        ["NEW-1", "新协议", "110000", None, "653200", None, None, None, 100, "已签订"],
    ]
    projects = [
        PROJECT_HEADERS,
        project_row("P-1", agreement="NEW-1"),
        project_row("P-2", agreement="NEW-1", 项目状态="?"),
    ]
    outcome = import_file(xlsx({"协议": agreements, "项目": projects}), "w.xlsx")
    assert [(e.sheet, e.row) for e in outcome.errors] == [("项目", 3)]
    assert Agreement.objects.count() == 0 and Project.objects.count() == 0


@pytest.mark.django_db
def test_a_workbook_adds_agreements_projects_payments_and_outputs_that_refer_to_each_other():
    data = xlsx(
        {
            "建设成果": [["项目编号", "设施类型", "数量"], ["P-1", "F03", 2], ["P-1", "职工书屋", 1]],
            "协议": [
                AGREEMENT_HEADERS,
                ["NEW-1", "新协议", "北京市", None, "653200", None, None, None, 100, "signed"],
            ],
            "资金拨付": [
                ["项目编号", "拨付日期", "拨付金额（万元）", "凭证号"],
                ["P-1", "2022-05-01", 3, 1001],
            ],
            "项目": [PROJECT_HEADERS, project_row("P-1", agreement="NEW-1")],
        }
    )
    outcome = import_file(data, "w.xlsx")
    assert [(e.sheet, e.row, e.column) for e in outcome.errors] == [("建设成果", 3, "设施类型")]  # same key
    data = xlsx(
        {
            "建设成果": [["项目编号", "设施类型", "数量"], ["P-1", "F03", 2]],
            "协议": [
                AGREEMENT_HEADERS,
                ["NEW-1", "新协议", "北京市", None, "653200", None, None, None, 100, "signed"],
            ],
            "资金拨付": [
                ["项目编号", "拨付日期", "拨付金额（万元）", "凭证号"],
                ["P-1", "2022-05-01", 3, 1001],
            ],
            "项目": [PROJECT_HEADERS, project_row("P-1", agreement="NEW-1")],
        }
    )
    assert import_file(data, "w.xlsx").errors == []
    payment = Disbursement.objects.get()
    assert payment.amount == Decimal("30000.00") and payment.reference == "1001"
    assert FacilityOutput.objects.get().quantity == 2
    # The key of a payment is project + voucher number: a changed amount updates it.
    again = xlsx(
        {
            "资金拨付": [
                ["项目编号", "拨付日期", "拨付金额（万元）", "凭证号"],
                ["P-1", "2022-05-01", 4, "1001"],
            ]
        }
    )
    assert import_file(again, "d.xlsx").counts["资金拨付"]["updated"] == 1
    assert Disbursement.objects.get().amount == Decimal("40000.00")


@pytest.mark.django_db
def test_province_staff_import_only_their_province(staff_bj, bj_agreement):
    rows = [AGREEMENT_HEADERS, ["HB-9", "湖北协议", "420000", None, "652700", None, None, None, 1, "草拟"]]
    outcome = import_file(xlsx({"协议": rows}), "a.xlsx", staff_bj)
    assert [(e.row, e.column) for e in outcome.errors] == [(2, "援助省市")]
    make_agreement("HB-1", province="420000", recipient="652700")
    rows = [AGREEMENT_HEADERS, ["HB-1", "改名", "110000", None, "653200", None, None, None, 1, "草拟"]]
    outcome = import_file(xlsx({"协议": rows}), "a.xlsx", staff_bj)
    assert [(e.row, e.column, e.value) for e in outcome.errors] == [(2, "协议编号", "HB-1")]
    assert Agreement.objects.get(code="HB-1").title == "协议 HB-1"


@pytest.mark.django_db
def test_import_workbook_records_the_history_as_the_user(staff_bj, bj_agreement, tmp_path, capsys):
    path = tmp_path / "book.xlsx"
    path.write_bytes(xlsx({"项目": [PROJECT_HEADERS, project_row("P-1")]}))
    call_command("import_workbook", str(path), "--dry-run", "--user", "staff_bj")
    assert Project.objects.count() == 0
    call_command("import_workbook", str(path), "--user", "staff_bj")
    assert Project.history.get().history_user == staff_bj
    outcomes = list(ImportRecord.objects.order_by("created_at").values_list("outcome", "user__username"))
    assert outcomes == [("dry_run", "staff_bj"), ("imported", "staff_bj")]


@pytest.mark.django_db
def test_import_workbook_fails_with_every_error_and_writes_nothing(bj_agreement, tmp_path, capsys):
    from django.core.management.base import CommandError

    path = tmp_path / "book.xlsx"
    path.write_bytes(
        xlsx({"项目": [PROJECT_HEADERS, project_row("P-1", 项目状态="?"), project_row("P-2", 开始日期="x")]})
    )
    with pytest.raises(CommandError):
        call_command("import_workbook", str(path))
    err = capsys.readouterr().err
    assert "2" in err and "3" in err and "项目状态" in err and "开始日期" in err
    assert Project.objects.count() == 0


@pytest.mark.django_db
def test_the_libraries_own_import_command_works_all_or_nothing(bj_agreement, tmp_path):
    good = tmp_path / "good.xlsx"
    good.write_bytes(xlsx({"项目": [PROJECT_HEADERS, project_row("P-1"), project_row("P-2")]}))
    call_command("import", "projects.resources.ProjectResource", str(good), "--no-input")
    assert Project.objects.count() == 2
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(xlsx({"项目": [PROJECT_HEADERS, project_row("P-3"), project_row("P-4", 项目状态="?")]}))
    with pytest.raises(SystemExit):
        call_command("import", "projects.resources.ProjectResource", str(bad), "--no-input")
    assert Project.objects.count() == 2


@pytest.mark.django_db
def test_recorded_import_keeps_file_name_checksum_and_counts(bj_agreement):
    data = xlsx({"项目": [PROJECT_HEADERS, project_row("P-1")]})
    record, _outcome = import_recorded(data, "第一批.xlsx", None, target="projects.project")
    import hashlib

    assert record.file_name == "第一批.xlsx"
    assert record.sha256 == hashlib.sha256(data).hexdigest()
    assert record.counts == {"项目": {"new": 1, "updated": 0, "unchanged": 0, "errors": 0}}
    assert make_project  # builder shared with other modules


@pytest.mark.django_db
def test_a_bad_project_does_not_make_the_good_projects_disbursements_unknown(bj_agreement):
    data = xlsx(
        {
            "项目": [PROJECT_HEADERS, project_row("P-1"), project_row("P-2", agreement="NOPE")],
            "资金拨付": [
                ["项目编号", "拨付日期", "拨付金额（万元）", "凭证号"],
                ["P-1", "2022-04-01", 1, "PZ-1"],
                ["P-2", "2022-04-01", 1, "PZ-2"],
            ],
        }
    )
    outcome = import_file(data, "book.xlsx")
    rows = sorted((error.sheet, error.row) for error in outcome.errors)
    assert ("项目", 3) in rows  # the unknown agreement
    assert ("资金拨付", 2) not in rows  # P-1 is good: its disbursement is not reported
    assert not Project.objects.exists()
