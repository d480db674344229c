"""Labels for the dashboards' report coverage (display only; the figures are projects.report_coverage's)."""

from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

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


@register.simple_tag
def report_project_rows(projects):
    """The body rows of _report_projects.html, built in Python (fifty rows): code, name, reporting status,
    percent complete; each row classed by its reporting status."""
    states = dict(reporting_states())
    out = [
        f'<tr class="reporting-{conditional_escape(project.reporting_status)}">'
        f'<th scope="row">{conditional_escape(project.code)}</th><td>{conditional_escape(project.name)}</td>'
        f"<td>{conditional_escape(states.get(project.reporting_status, project.reporting_status))}</td>"
        f'<td class="num">{percent_complete(project.percent_complete)}</td></tr>'
        for project in projects
    ]
    if not out:
        message = _("No project within your access is due a report for this quarter.")
        out.append(f'<tr><td colspan="4">{conditional_escape(message)}</td></tr>')
    return mark_safe("\n".join(out))  # every part escaped
