"""Formatting and drill-down links for the dashboard templates (display only; figures come from selectors)."""

from urllib.parse import parse_qs, urlsplit

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from agreements.access import profile_of, sees_everything
from aidtracker import money
from projects.models import Category, Project

register = template.Library()

CHANGELISTS = {
    "project": "admin:projects_project_changelist",
    "agreement": "admin:agreements_agreement_changelist",
    "disbursement": "admin:projects_disbursement_changelist",
    "facilityoutput": "admin:projects_facilityoutput_changelist",
}


# Amounts are shown the way the money module shows them: 万元 and 亿元, rounded half up.
register.filter("wan", money.wan)
register.filter("yi", money.yi)


@register.simple_tag
def filters_in_force(filters):
    """The filters in force on one line, each with its label: "援助省市 北京市; 开始年份 2022"."""
    parts = []
    if filters.province:
        parts.append(f"{_('donor province')} {filters.province.name}")
    if filters.category:
        parts.append(f"{_('category')} {filters.category.code} {filters.category.name}")
    if filters.recipient:
        parts.append(f"{_('recipient unit')} {filters.recipient.name}")
    if filters.status:
        parts.append(f"{_('status')} {Project.Status(filters.status).label}")
    if filters.start_year:
        parts.append(f"{_('start year')} {filters.start_year}")
    if filters.as_of:
        parts.append(f"{_('as of')} {filters.as_of.isoformat()}")
    return "; ".join(parts)


@register.filter
def percent(rate):
    """A fraction as a percentage with one decimal; a dash when undefined."""
    if rate is None:
        return "–"
    return f"{rate * 100:.1f}%"


@register.filter
def number(value):
    return f"{value:,}" if isinstance(value, int) else value


def drill_url(filters, target, key=None, value=None, **extra):
    """The admin changelist URL holding exactly the rows behind a figure, or "" when there is none.

    Projects, disbursements and outputs take the dashboard's project filters (and `live=1` when no status
    is chosen); agreements take province and recipient and `counted=1`.
    """
    try:
        url = reverse(CHANGELISTS[target])
    except NoReverseMatch:
        return ""
    if target == "agreement":
        params = {
            "province": filters.province.code if filters.province else None,
            "recipient": filters.recipient.code if filters.recipient else None,
            "counted": "1",
        }
    else:
        params = dict(filters.as_json())
    if key:
        if value in (None, "", 0):
            return ""  # e.g. projects without a start date: no changelist filter selects exactly them
        params[key] = value
    params.update(extra)
    wanted = extra.get("status") or (value if key == "status" else None)
    if wanted and filters.status and filters.status != wanted:
        return ""  # e.g. "completed" while showing planned projects: there are no such rows
    if target != "agreement" and not params.get("status"):
        params["live"] = "1"
    query = urlencode([(k, v) for k, v in params.items() if v not in (None, "")])
    return f"{url}?{query}"


def _category_parents(context):
    """{category code: its parent's code or None}, read once per request."""
    request = context["request"]
    if not hasattr(request, "_dashboard_category_parents"):
        request._dashboard_category_parents = dict(Category.objects.values_list("code", "parent__code"))
    return request._dashboard_category_parents


def row_value(context, filters, key, value):
    """The parameter value selecting exactly a row's projects *within the filters in force*, or None
    when the row and the filter exclude each other (then its figures are zero and there is nothing to list).

    A row's own value replaces the filter's only when it is the narrower of the two: a sub-category row
    under a category filter, a unit below the filtered one. A top-level category row under a sub-category
    filter selects the filter's sub-category.
    """
    current = {
        "province": filters.province,
        "category": filters.category,
        "start_year": filters.start_year,
    }.get(key)
    if current is None:
        return value
    if key == "category":
        if value == current.code:
            return value
        parents = _category_parents(context)
        if parents.get(value) == current.code:
            return value
        if parents.get(current.code) == value:
            return current.code
        return None
    code = current.code if hasattr(current, "code") else current
    return value if str(value) == str(code) else None


def _lists_only_own_rows(context, url):
    """Whether every row behind the link lies in the user's scope, so the changelist's count is the figure.

    Aggregates are shown to everyone, but a province's staff see only their rows in the admin: a figure of
    another province (or of the whole country) gets no link rather than one to a shorter list.
    """
    request = context["request"]
    if sees_everything(request.user):
        return True
    profile = profile_of(request.user)
    query = parse_qs(urlsplit(url).query)
    if profile is not None and profile.province_id:
        return query.get("province") == [profile.province.code]
    if profile is not None and profile.recipient_id:
        if not hasattr(request, "_dashboard_subtree"):
            request._dashboard_subtree = set(profile.recipient.subtree().values_list("code", flat=True))
        return query.get("recipient", [None])[0] in request._dashboard_subtree
    return False


@register.simple_tag(takes_context=True)
def drill(context, display, target, key=None, value=None, rows=False, **extra):
    """`display` linked to the changelist of its rows (see drill_url); `rows=True` marks a figure that is
    the number of those rows (class "rows"), as opposed to a sum over them."""
    filters = context["filters"]
    if key and target != "agreement" or key == "province":
        value = row_value(context, filters, key, value)
        if value is None:
            return display
    url = drill_url(filters, target, key, value, **extra)
    if not url or not _lists_only_own_rows(context, url):
        return display
    return format_html('<a class="drill{}" href="{}">{}</a>', " rows" if rows else "", url, display)


@register.simple_tag(takes_context=True)
def page_query(context, *drop):
    """The current query string without the given parameters (the ones a page fixes in its path)."""
    query = context["request"].GET.copy()
    for key in drop:
        query.pop(key, None)
    encoded = query.urlencode()
    return f"?{encoded}" if encoded else ""
