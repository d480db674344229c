"""Labels for the dashboards' report coverage (display only; the figures are projects.report_coverage's)."""

from django import template

from projects.admin_filters import reporting_states

register = template.Library()


@register.filter
def reporting_state(value):
    """A reporting status ("missing" or a report state) as the interface names it."""
    return dict(reporting_states()).get(value, value)


@register.filter
def percent_complete(value):
    """A project's percent complete (of its latest approved report), or a dash when none is approved."""
    return "–" if value is None else f"{value}%"
