"""Dashboard views: they parse filters, call the selectors and display what they are handed."""

from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import render

from projects import selectors
from projects.filters import SummaryFilterSet


def _filterset(request):
    return SummaryFilterSet(request.GET or None, queryset=selectors.selected_projects(selectors.SummaryFilters()))


def _bad_filters(filterset):
    errors = {field: [str(e) for e in errs] for field, errs in filterset.form.errors.items()}
    return JsonResponse({"errors": errors}, status=400, json_dumps_params={"ensure_ascii": False})


@login_required
def summary_json(request):
    filterset = _filterset(request)
    if not filterset.is_valid():
        return _bad_filters(filterset)
    result = selectors.summary(filterset.summary_filters())
    return JsonResponse(selectors.summary_as_json(result), json_dumps_params={"ensure_ascii": False})


@login_required
def overview(request):
    filterset = _filterset(request)
    if not filterset.is_valid():
        return render(request, "dashboard/errors.html", {"filterset": filterset}, status=400)
    result = selectors.summary(filterset.summary_filters())
    return render(request, "dashboard/overview.html", {"filterset": filterset, "summary": result})
