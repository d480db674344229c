"""The drill-down links' shortcut (projects.templatetags.dashboard._Links.url: a URL worked out once per target
and key, the row's value put in its place) gives the very URL of the full rule (_full_url), for every role,
filter, target, key and value a page asks; and a table's column of cells (_Column) is written as the
`drill` tag writes each cell."""

import datetime
import html
import itertools

import pytest
from django.test import RequestFactory

from agreements.models import Province, RecipientUnit
from projects.models import Category
from projects.selectors import SummaryFilters
from projects.templatetags.dashboard import _Column, _drill, _esc, _Links

pytestmark = pytest.mark.django_db

TARGETS = ("project", "agreement", "disbursement", "facilityoutput")


def _filters():
    yield SummaryFilters()
    yield SummaryFilters(province=Province.objects.get(code="110000"))
    yield SummaryFilters(category=Category.objects.get(code="A"), start_year=2022)
    yield SummaryFilters(recipient=RecipientUnit.objects.get(code="653100"), status="completed")
    yield SummaryFilters(as_of=datetime.date(2022, 6, 30))


VALUES = {
    None: [None],
    "province": ["110000", "420000", ""],
    "recipient": ["653100", "653200", "650000"],
    "category": ["A", "A01", "B02"],
    "start_year": [2022, 2023, 0],
    "agreement__id__exact": [1, 7],
    "facility_type__id__exact": [3],
    "status": ["completed", "planned"],
}
EXTRAS = [
    None,
    {"due": "2026Q3"},
    {"due": "2026Q3", "reporting": "missing"},
    {"status": "completed"},
    {"province": "110000"},
    {"recipient": "653100", "status": "planned"},
]


def _request(user):
    http = RequestFactory().get("/dashboard/")
    http.user = user
    return http


@pytest.mark.parametrize("persona", ["national", "manager", "staff_bj", "recipient_ks"])
def test_the_shortcut_gives_the_full_rules_url(persona, request):
    http = _request(request.getfixturevalue(persona))
    checked = linked = 0
    for filters in _filters():
        links = _Links(http, filters)
        for target, (key, options), extra in itertools.product(TARGETS, VALUES.items(), EXTRAS):
            for value in options:
                full = links._full_url(target, key, value, extra)
                case = (persona, filters, target, key, value, extra)
                assert links.url(target, key, value, extra) == full, case
                assert links.href(target, key, value, extra) == html.escape(full), case
                checked += 1
                linked += bool(full)
    assert checked > 1000 and linked > 100


@pytest.mark.parametrize("persona", ["manager", "staff_bj", "recipient_ks"])
def test_a_column_writes_each_cell_as_the_drill_tag_does(persona, request):
    http = _request(request.getfixturevalue(persona))
    checked = linked = 0
    for filters in _filters():
        links = _Links(http, filters)
        for target, (key, options), extra, rows in itertools.product(
            TARGETS, VALUES.items(), EXTRAS, (False, True)
        ):
            column = _Column(links, target, key, rows, extra)
            for value, display in itertools.product(options, ("1,234", "12.50", "<&>")):
                cell = column.html(display, value)
                assert cell == _esc(_drill(links, display, target, key, value, rows, extra)), (
                    filters,
                    key,
                    value,
                )
                checked += 1
                linked += cell.startswith("<a ")
    assert checked > 1000 and linked > 100
