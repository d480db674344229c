"""The admin index's task list (display only; what waits for whom is projects.reporting.tasks_for)."""

from django import template

from projects.reporting import tasks_for

register = template.Library()


@register.simple_tag(takes_context=True)
def my_tasks(context):
    request = context.get("request")
    if request is None or not request.user.is_authenticated:
        return None
    return tasks_for(request.user)
