"""Dashboard views: they parse filters, call the selectors and display what they are handed."""

from datetime import date

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from aidtracker import money
from aidtracker.replica import read_source, reading_from
from projects import report_coverage, selectors
from projects.dashboard_xlsx import summary_workbook
from projects.filters import SummaryFilterSet, errors_by_label
from projects.models import Project

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PAGE_FORMATS = {"xlsx"}  # each dashboard page downloads what it shows at its own URL plus ?format=xlsx


def _filterset(request, **fixed):
    """The FilterSet over the query string; `fixed` values (from the URL path) override it."""
    data = request.GET.copy()
    for key, value in fixed.items():
        data[key] = value
    return SummaryFilterSet(data, queryset=Project.objects.all())


def _path_object(filterset, name):
    """The province or category the path names, read by the filter itself (one query, not two); an
    unknown code in the path is a page that does not exist (404), not a bad filter."""
    filterset.is_valid()
    value = filterset.form.cleaned_data.get(name)
    if value is None:
        raise Http404
    return value


def _errors(filterset):
    return {field: [str(error) for error in errors] for field, errors in filterset.form.errors.items()}


def _bad_filters_page(request, filterset, errors):
    errors = errors_by_label(errors)
    return render(request, "dashboard/errors.html", {"filterset": filterset, "errors": errors}, status=400)


def _bad_filters_json(errors):
    return JsonResponse({"errors": errors}, status=400, json_dumps_params={"ensure_ascii": False})


def _request_errors(request, filterset, formats):
    """The errors of the filters and of `format` (absent, or one of `formats`), keyed by URL parameter: an
    unknown format is refused, never answered with the page as if it had not been asked for."""
    errors = {} if filterset.is_valid() else _errors(filterset)
    if "format" in request.GET:
        given = request.GET.getlist("format")
        if len(given) > 1 or given[0] not in formats:
            errors["format"] = [
                _("Unknown format “%(value)s”: give format=%(formats)s, or leave it out.")
                % {"value": given[-1], "formats": " / format=".join(sorted(formats))}
            ]
    return errors


def _wants_xlsx(request):
    return request.GET.get("format") == "xlsx"


# One colour per meaning on every chart of every page: a reader who learnt that green is "disbursed" on one
# chart never finds green meaning "not yet disbursed" on the next.
COLOURS = {
    "budget": "#5470c6",
    "disbursed": "#3ba272",
    "undisbursed": "#c8ccd4",
    "quantity": "#fc8452",
}


def _series(meaning, name, data):
    return {"name": name, "color": COLOURS[meaning], "data": data}


def _bar_chart(chart_id, title, rows, *, label="name", stacked=False):
    """Chart data for static/js/dashboard.js: budget vs disbursed per row, in 万元."""
    return {
        "id": chart_id,
        "title": title,
        "kind": "bar",
        "stacked": stacked,
        "unit": _("10,000 yuan"),
        "labels": [str(row[label]) for row in rows],
        "series": [
            _series("disbursed", _("disbursed"), [money.wan_number(row["disbursed"]) for row in rows]),
            _series(
                "undisbursed",
                _("not yet disbursed"),
                [money.wan_number(max(row["budget"] - row["disbursed"], 0)) for row in rows],
            ),
        ]
        if stacked  # the bar's full height is the aid amount
        else [
            _series("budget", _("aid amount"), [money.wan_number(row["budget"]) for row in rows]),
            _series("disbursed", _("disbursed"), [money.wan_number(row["disbursed"]) for row in rows]),
        ],
    }


def _xlsx(content, name, source):
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return _stamped(response, source)


def _stamped(response, source):
    """The time the figures are as of (the replica may be a few seconds behind the primary)."""
    response["X-Data-As-Of"] = source.as_of.isoformat()
    return response


def _category_parents(categories):
    """{category code: its parent's code or None}, for the drill-down links."""
    code_of = {category.pk: category.code for category in categories}
    return {category.code: code_of.get(category.parent_id) for category in categories}


def _page(request, template, filterset, data, charts, source, **extra):
    filterset.offer(
        provinces=data["provinces"], categories=data["categories"], recipients=data.get("recipients")
    )
    response = render(
        request,
        template,
        {
            "filterset": filterset,
            "filters": data["filters"],
            "data": data,
            "charts": charts,
            "today": date.today(),
            "query": filterset.data.urlencode(),  # with the filter the path fixes
            "category_parents": _category_parents(data["categories"]),
            "data_as_of": source.as_of,
            **extra,
        },
    )
    return _stamped(response, source)


@never_cache
@login_required
@require_GET
def overview(request):
    source = read_source(request)
    with reading_from(source.alias):  # one block: validation and selectors share reference reads (read_memo)
        filterset = _filterset(request)
        errors = _request_errors(request, filterset, PAGE_FORMATS)
        if not errors:
            data = selectors.overview(filterset.summary_filters())
            data["reporting"] = report_coverage.reporting(
                data["filters"], in_progress=data["in_progress_by_province"], province_of=data["province_of"]
            )
            data["recipients"] = selectors.recipient_choices()  # for the filter form
    if errors:
        return _bad_filters_page(request, filterset, errors)
    if _wants_xlsx(request):
        return _xlsx(summary_workbook(data, page="overview"), "aidtracker-overview.xlsx", source)
    years = [{**row, "name": row["year"] or _("no start date")} for row in data["by_year"]]
    charts = [
        _bar_chart("chart-province", _("By donor province"), data["by_province"]),
        _bar_chart("chart-category", _("By category"), data["by_category"]),
        {**_bar_chart("chart-year", _("By start year"), years), "kind": "line"},
        {
            "id": "chart-facilities",
            "title": _("Facilities built"),
            "kind": "bar",
            "stacked": False,
            "unit": _("facilities"),
            "labels": [row["name"] for row in data["facilities"]],
            "series": [_series("quantity", _("quantity"), [row["quantity"] for row in data["facilities"]])],
        },
    ]
    return _page(request, "dashboard/overview.html", filterset, data, charts, source, years=years)


@never_cache
@login_required
@require_GET
def province(request, code):
    source = read_source(request)
    with reading_from(source.alias):  # one block: validation and selectors share reference reads (read_memo)
        filterset = _filterset(request, province=code)
        province = _path_object(filterset, "province")
        errors = _request_errors(request, filterset, PAGE_FORMATS)
        if not errors:
            data = selectors.province_dashboard(filterset.summary_filters(), request.user)
            data["reporting"] = report_coverage.reporting(
                data["filters"], in_progress=data["in_progress_by_province"], province_of=data["province_of"]
            )
            data["province_reporting"] = report_coverage.province_reporting(
                data["filters"], request.user, data["reporting"], data["province_of"]
            )
    if errors:
        return _bad_filters_page(request, filterset, errors)
    if _wants_xlsx(request):
        return _xlsx(summary_workbook(data, page="province"), f"aidtracker-{province.code}.xlsx", source)
    quarters = data["by_quarter"]
    charts = [
        _bar_chart("chart-agreements", _("By agreement"), data["agreement_rows"], label="code", stacked=True),
        _bar_chart("chart-category", _("By category"), data["by_category"]),
        _bar_chart("chart-recipient", _("By recipient unit"), data["by_recipient"]),
        {
            "id": "chart-quarter",
            "title": _("Disbursements by quarter"),
            "kind": "line",
            "stacked": False,
            "unit": _("10,000 yuan"),
            "labels": [row["label"] for row in quarters],
            "series": [
                _series("disbursed", _("disbursed"), [money.wan_number(row["amount"]) for row in quarters])
            ],
        },
    ]
    return _page(request, "dashboard/province.html", filterset, data, charts, source, province=province)


@never_cache
@login_required
@require_GET
def category(request, code):
    source = read_source(request)
    with reading_from(source.alias):  # one block: validation and selectors share reference reads (read_memo)
        filterset = _filterset(request, category=code)
        category = _path_object(filterset, "category")
        errors = _request_errors(request, filterset, PAGE_FORMATS)
        if not errors:
            data = selectors.category_dashboard(filterset.summary_filters())
            data["recipients"] = selectors.recipient_choices()  # for the filter form
    if errors:
        return _bad_filters_page(request, filterset, errors)
    if _wants_xlsx(request):
        return _xlsx(summary_workbook(data, page="category"), f"aidtracker-{category.code}.xlsx", source)
    charts = [
        _bar_chart("chart-province", _("By donor province"), data["by_province"], stacked=True),
        _bar_chart("chart-subcategory", _("By sub-category"), data["by_subcategory"]),
    ]
    return _page(request, "dashboard/category.html", filterset, data, charts, source, category=category)


@never_cache
@login_required
@require_GET
def summary_json(request):
    source = read_source(request)
    with reading_from(source.alias):  # one block: validation and selectors share reference reads (read_memo)
        filterset = _filterset(request)
        errors = _request_errors(request, filterset, {"json"})
        if errors:
            return _bad_filters_json(errors)
        result = selectors.summary(filterset.summary_filters())
        body = selectors.summary_as_json(result)
        block = report_coverage.reporting(
            result["filters"], in_progress=result.in_progress, province_of=result.province_of
        )
    body["reporting"] = report_coverage.reporting_json(block)
    return _stamped(JsonResponse(body, json_dumps_params={"ensure_ascii": False}), source)


@never_cache
@login_required
@require_GET
def summary_xlsx(request):
    source = read_source(request)
    with reading_from(source.alias):  # one block: validation and selectors share reference reads (read_memo)
        filterset = _filterset(request)
        errors = _request_errors(request, filterset, {"xlsx"})
        if errors:
            return _bad_filters_json(errors)
        result = selectors.summary(filterset.summary_filters())
        result["reporting"] = report_coverage.reporting(
            result["filters"], in_progress=result.in_progress, province_of=result.province_of
        )
    return _xlsx(summary_workbook(result), "aidtracker-summary.xlsx", source)


# Their errors are JSON keyed by the URL parameter, a NUL byte in one too (agreements.middleware.NulByteMiddleware).
summary_json.errors_as_json = True
summary_xlsx.errors_as_json = True
