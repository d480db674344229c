"""AgreementResource keeps django-import-export's interface: import_data on a dataset, export to a dataset."""

from decimal import Decimal

import pytest
import tablib

from agreements.models import Agreement
from agreements.resources import AgreementResource

HEADERS = ["协议编号", "协议名称", "援助省市", "签约单位", "受援单位", "签订日期", "开始日期", "结束日期"]
HEADERS += ["援助意向金额（万元）", "协议状态"]


def dataset(*rows):
    return tablib.Dataset(*rows, headers=HEADERS)


@pytest.mark.django_db
def test_import_data_dry_run_writes_nothing_and_a_real_run_writes_all():
    data = dataset(["BJ-1", "协议", "北京市", "", "653200", "2021-03-01", "", "", "2,000.5", "已签订"])
    result = AgreementResource().import_data(data, dry_run=True)
    assert not result.has_errors() and result.totals["new"] == 1
    assert Agreement.objects.count() == 0
    AgreementResource().import_data(data, dry_run=False)
    assert Agreement.objects.get().pledged == Decimal("20005000.00")


@pytest.mark.django_db
def test_import_data_reports_each_bad_row_and_writes_nothing():
    data = dataset(
        ["BJ-1", "协议", "北京市", "", "653200", "", "", "", "1", "signed"],
        ["BJ-2", "协议", "火星", "", "653200", "", "", "", "1", "signed"],
    )
    result = AgreementResource().import_data(data)
    assert result.has_errors()
    assert [number for number, _errors in result.row_errors()] == [1]
    assert "援助省市" in str(result.row_errors()[0][1][0].error)
    assert Agreement.objects.count() == 0


@pytest.mark.django_db
def test_export_writes_codes_chinese_statuses_and_wan(staff_bj):
    from tests.conftest import make_agreement

    make_agreement("BJ-1", pledged="12345678.90", status="completed")
    make_agreement("HB-1", province="420000", recipient="652700")
    exported = AgreementResource(user=staff_bj).export()
    assert exported.headers == HEADERS
    assert [list(row) for row in exported][0][2:] == [
        "110000",
        None,
        "653200",
        exported[0][5],
        None,
        None,
        Decimal("1234.56789"),
        "已完成",
    ]
    assert len(exported) == 1  # Hubei's agreement is out of scope
