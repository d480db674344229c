"""The dashboard's own downloads go through the one writer: a formula-like title or code is a text cell
Excel shows as-is, and the 合计 rows hold values, never formulas."""

import io
import zipfile

import pytest
from openpyxl import load_workbook

from agreements.models import Agreement
from tests.conftest import make_agreement, make_project


@pytest.fixture
def hostile(db):
    agreement = make_agreement('=HYPERLINK("http://x")', province="110000", recipient="653200")
    Agreement.objects.filter(pk=agreement.pk).update(title='=HYPERLINK("http://evil.example","点我")')
    make_project("P-1", agreement, budget="125000.00")
    return agreement


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/dashboard/provinces/110000/?format=xlsx", "/dashboard/summary.xlsx"])
def test_dashboard_downloads_never_hold_a_formula(client, manager, hostile, url):
    client.force_login(manager)
    response = client.get(url)
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        sheets = [archive.read(n).decode() for n in archive.namelist() if n.startswith("xl/worksheets/")]
    assert sheets and not any("<f>" in xml or "<f " in xml for xml in sheets)
    book = load_workbook(io.BytesIO(response.content))
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    assert cell.quotePrefix, (sheet.title, cell.coordinate)
    if "provinces" in url:
        titles = [row[1] for row in book["协议"].iter_rows(min_row=2, values_only=True)]
        assert titles == ['=HYPERLINK("http://evil.example","点我")']
    total = [row for row in book["按省市"].iter_rows(values_only=True) if row[0] == "合计"]
    assert total and all(not (isinstance(v, str) and v.startswith("=")) for v in total[0])
