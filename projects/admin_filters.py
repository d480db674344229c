"""Changelist filters named like the dashboard's query parameters (DESIGN section 4), so every
dashboard figure links to exactly its rows: `province`, `recipient`, `category`, `status`, `start_year`,
`live`, `as_of`. Each value is parsed by the dashboard's FilterSet and applied by the dashboard's rule
(projects.selectors.narrow), on every changelist that offers it (agreements, projects, disbursements,
outputs, progress reports)."""

from dataclasses import replace

from django.contrib import admin
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from agreements.access import sees_everything, user_province
from agreements.models import Province, RecipientUnit
from projects.models import Category, Project, ProjectRollup, quarter_label


def project_prefix(model):
    """The lookup prefix from `model` to its project ("" for Project itself, and for agreements, which
    only the province and recipient filters narrow, through the model's own lookups)."""
    return "" if model is Project or model._meta.label == "agreements.Agreement" else "project__"


class DashboardListFilter(admin.SimpleListFilter):
    """A changelist filter for one dashboard parameter. The value was parsed and checked by the dashboard's
    FilterSet (DashboardParametersMixin), and the rows are selected by the dashboard's own rule
    (projects.selectors.narrow), so a figure and the list it links to cannot disagree."""

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        given = getattr(request, "dashboard_filters", None)
        if given is None:
            # A view other than a changelist with DashboardParametersMixin (the export of the filtered list,
            # the progress report list whose `status` is the report's): this parameter alone, by the same
            # FilterSet.
            given, _errors = dashboard_parameters({self.parameter_name: self.value()})
            if given is None:
                return queryset.none()
        from projects.selectors import SummaryFilters, narrow

        only = SummaryFilters(**{"live": None, self.parameter_name: getattr(given, self.parameter_name)})
        return narrow(queryset, only, prefix=project_prefix(queryset.model))


class ProvinceFilter(DashboardListFilter):
    """`?province=<code>`: rows of that donor province (the agreement's province). Staff of a province are
    offered only their own."""

    title = _("donor province")
    parameter_name = "province"
    template = "admin/filter_dropdown.html"  # a long list: one drop-down line

    def lookups(self, request, model_admin):
        provinces = Province.objects.all()
        if not sees_everything(request.user):
            own = user_province(request.user)
            provinces = provinces.filter(pk=own.pk if own else None)
        return [(p.code, p.name) for p in provinces]


class RecipientFilter(DashboardListFilter):
    """`?recipient=<code>`: rows whose recipient unit is that unit or below it (an agreement's recipient on
    the agreement list, the project's on the others)."""

    title = _("recipient unit")
    parameter_name = "recipient"
    template = "admin/filter_dropdown.html"  # a long list: one drop-down line

    def lookups(self, request, model_admin):
        return [(u.code, f"{'　' * (u.path.count('/') - 2)}{u.name}") for u in RecipientUnit.objects.all()]


class CategoryFilter(DashboardListFilter):
    """`?category=<code>`: a top-level code includes its sub-categories."""

    title = _("category")
    parameter_name = "category"
    template = "admin/filter_dropdown.html"  # a long list: one drop-down line

    def lookups(self, request, model_admin):
        return [
            (c.code, f"{'' if c.parent_id is None else '　'}{c.code} {c.name}")
            for c in Category.objects.order_by("code")
        ]


class StatusFilter(DashboardListFilter):
    """`?status=<value>`: the project's status."""

    title = _("project status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return Project.Status.choices


class LiveFilter(DashboardListFilter):
    """`?live=1`: projects not cancelled (the dashboard's default rule); `?live=0`: cancelled ones."""

    title = _("live")
    parameter_name = "live"

    def lookups(self, request, model_admin):
        return [("1", _("live (not cancelled)")), ("0", _("cancelled"))]


class StartYearFilter(DashboardListFilter):
    """`?start_year=<year>`: projects that start in that year (the years offered are those in the data)."""

    title = _("start year")
    parameter_name = "start_year"

    def lookups(self, request, model_admin):
        years = ProjectRollup.objects.exclude(start_year=0).order_by("start_year").values_list("start_year")
        return [(str(year), str(year)) for (year,) in years.distinct()]


class AsOfFilter(admin.SimpleListFilter):
    """`?as_of=<date>`: only disbursements dated on or before it count (DESIGN section 4). It selects no fewer
    projects or agreements: each changelist narrows what it sums (`narrow_as_of` of its admin) — the
    disbursement list lists only those disbursements, the project and agreement lists' disbursed columns sum
    only them. Shown (as its one choice) only while in force."""

    title = _("disbursed as of")
    parameter_name = "as_of"

    def __init__(self, request, params, model, model_admin):
        self.model_admin = model_admin
        super().__init__(request, params, model, model_admin)

    def lookups(self, request, model_admin):
        if not self.value():
            return None
        given = _given(request)
        return [(self.value(), given.as_of.isoformat() if given else self.value())]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        given = _given(request)
        if given is None:  # bad parameters (the changelist itself answers them with 400)
            return queryset.none()
        return self.model_admin.narrow_as_of(queryset, given.as_of)


def _given(request):
    """The dashboard parameters of the request as the changelist parsed them, or parsed here for a view other
    than the changelist (the export of the filtered list); None when they are bad."""
    given = getattr(request, "dashboard_filters", None)
    if given is None:
        given, _errors = dashboard_parameters(request.GET)
        request.dashboard_filters = given
    return given


class ReportingDueFilter(admin.SimpleListFilter):
    """`?due=2026Q3`: projects due a report for that quarter (DESIGN section 7), and with `?reporting=<state>`
    only those whose reporting status for it is that state (a report state, or "missing") — the rows
    behind the dashboard's report coverage figures, by the same rule (projects.report_coverage)."""

    title = _("due a report for")
    parameter_name = "due"

    def lookups(self, request, model_admin):
        from projects.report_coverage import quarter_parameter
        from projects.reporting import reporting_quarter

        year, quarter = reporting_quarter()
        return [(quarter_parameter(year, quarter), quarter_label(year, quarter))]

    def queryset(self, request, queryset):
        from projects.report_coverage import filter_reporting, parse_quarter_parameter

        period = parse_quarter_parameter(self.value())
        if period is None:
            return queryset
        year, quarter = period
        return filter_reporting(
            queryset, year=year, quarter=quarter, state=request.GET.get("reporting") or None
        )


class ReportingStateFilter(admin.SimpleListFilter):
    """`?reporting=<state>`, read with `?due=` (ReportingDueFilter applies both)."""

    title = _("reporting status")
    parameter_name = "reporting"

    def lookups(self, request, model_admin):
        return reporting_states()

    def queryset(self, request, queryset):
        return queryset


def reporting_states():
    from projects.models import ProgressReport
    from projects.reporting import MISSING

    return [(MISSING, _("missing")), *ProgressReport.Status.choices]


DASHBOARD_PARAMETERS = ("province", "category", "recipient", "status", "start_year", "as_of")


def dashboard_parameters(query):
    """(the dashboard's parameters in a changelist's query string as SummaryFilters, their errors), judged
    by the dashboard's own FilterSet: an unknown code or a malformed value is an error, never ignored."""
    from projects.filters import SummaryFilterSet

    errors = {}
    data = {name: query[name] for name in DASHBOARD_PARAMETERS if name in query}
    filterset = SummaryFilterSet(data, queryset=Project.objects.none())
    if not filterset.is_valid():
        errors = {name: [str(e) for e in errs] for name, errs in filterset.form.errors.items()}
    if "live" in query and query["live"] not in ("0", "1"):
        errors["live"] = [str(_("Enter 1 for live projects or 0 for cancelled ones."))]
    errors.update(reporting_parameter_errors(query))
    if errors:
        return None, errors
    live = {"1": True, "0": False}.get(query.get("live"))
    return replace(filterset.summary_filters(), live=live), {}


def reporting_parameter_errors(query) -> dict:
    """Errors of `due` (a quarter such as 2026Q3) and `reporting` (a reporting status, only with `due`)."""
    from projects.report_coverage import parse_quarter_parameter

    errors = {}
    if "due" in query and parse_quarter_parameter(query["due"]) is None:
        errors["due"] = [str(_("Enter a quarter such as 2026Q3."))]
    if "reporting" in query:
        if query["reporting"] not in {value for value, _label in reporting_states()}:
            errors["reporting"] = [str(_("Select a valid reporting status."))]
        elif "due" not in query:
            errors["reporting"] = [str(_("Give the quarter too (due=2026Q3)."))]
    return errors


class DashboardParametersMixin:
    """Changelists take the dashboard's parameters with the dashboard's rules (DESIGN section 4).

    A bad value is answered with 400 and the errors. `project_only_parameters` are accepted but not applied:
    on agreements, `category`, `status`, `start_year` and `live` narrow projects, not the agreements.
    """

    project_only_parameters = ()

    def narrow_as_of(self, queryset, as_of):
        """The changelist's rows when only disbursements dated on or before `as_of` count (AsOfFilter)."""
        return queryset

    def changelist_view(self, request, extra_context=None):
        from projects.filters import errors_by_label

        request.dashboard_filters, errors = dashboard_parameters(request.GET)
        if errors:
            context = {
                **self.admin_site.each_context(request),
                "title": _("The filter is not valid"),
                "errors": errors_by_label(errors),
                "opts": self.model._meta,
            }
            return render(request, "admin/bad_filters.html", context, status=400)
        ignored = [name for name in self.project_only_parameters if name in request.GET]
        if ignored:
            request.GET = request.GET.copy()
            for name in ignored:
                del request.GET[name]
        return super().changelist_view(request, extra_context)
