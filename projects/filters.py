"""The dashboard's filters (DESIGN section 4), shared by the dashboards and the admin changelists."""

import django_filters
from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from agreements.models import Province, RecipientUnit
from projects.models import Category, Project
from projects.selectors import SummaryFilters


class YearFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField


class SummaryFilterForm(forms.Form):
    """A parameter given twice (`?province=110000&province=420000`) is an error, not "the last one wins"."""

    def clean(self):
        cleaned = super().clean()
        for name in self.fields:
            if hasattr(self.data, "getlist") and len(self.data.getlist(name)) > 1:
                self.add_error(name, _("Give this filter once, with one value."))
        return cleaned


class SummaryFilterSet(django_filters.FilterSet):
    """Parses and validates the query string; `summary_filters()` gives the normalised values.

    An unknown code or a malformed value makes the form invalid (the views answer 400 with the errors).
    """

    province = django_filters.ModelChoiceFilter(
        label=_("donor province"), queryset=Province.objects.all(), to_field_name="code", method="noop"
    )
    category = django_filters.ModelChoiceFilter(
        label=_("category"), queryset=Category.objects.all(), to_field_name="code", method="noop"
    )
    recipient = django_filters.ModelChoiceFilter(
        label=_("recipient unit"),
        queryset=RecipientUnit.objects.all(),
        to_field_name="code",
        method="noop",
    )
    status = django_filters.ChoiceFilter(label=_("status"), choices=Project.Status.choices, method="noop")
    start_year = YearFilter(label=_("start year"), method="noop", min_value=1990, max_value=2100)
    as_of = django_filters.DateFilter(label=_("as of"), method="noop")

    class Meta:
        model = Project
        fields = []
        form = SummaryFilterForm

    def noop(self, queryset, name, value):
        return queryset

    def summary_filters(self) -> SummaryFilters:
        data = self.form.cleaned_data
        return SummaryFilters(
            province=data.get("province"),
            category=data.get("category"),
            recipient=data.get("recipient"),
            status=data.get("status") or None,
            start_year=data.get("start_year"),
            as_of=data.get("as_of"),
        )

    def filter_queryset(self, queryset):
        from projects.selectors import filter_projects

        return filter_projects(queryset, self.summary_filters())


def errors_by_label(errors: dict) -> dict:
    """Filter errors keyed by the filters' labels (援助省市, 开始年份), for HTML pages; the JSON answer keeps
    the URL parameters (`province`, `start_year`) as its keys."""
    labels = {name: definition.label for name, definition in SummaryFilterSet.base_filters.items()}
    labels["live"] = _("live")
    return {capfirst(str(labels.get(name, name))): messages for name, messages in errors.items()}
