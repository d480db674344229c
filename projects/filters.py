"""The dashboard's filters (DESIGN section 4), shared by the dashboards and the admin changelists."""

import html

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.forms.utils import flatatt
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from agreements.models import Province, RecipientUnit
from aidtracker.replica import read_memo
from projects.models import Category, Project
from projects.narrowing import SummaryFilters, categories_in_order, provinces_in_order, recipient_units


class YearFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField


class QuickSelect(forms.Select):
    """A select rendered in Python rather than through a template per option: the recipient and category
    lists run to hundreds of options, and template rendering made the filter form the slowest part of every
    dashboard page. Same markup as Django's Select (name, attributes, one option per choice, `selected`)."""

    def render(self, name, value, attrs=None, renderer=None):
        current = "" if value is None else str(value)
        # html.escape is what django.utils.html.escape calls, without its lazy-string wrapper (hundreds of
        # options).
        options = "".join(
            f'<option value="{html.escape(str(choice))}"{" selected" if str(choice) == current else ""}>'
            f"{html.escape(str(label))}</option>"
            for choice, label in self.choices
        )
        attributes = flatatt(self.build_attrs(self.attrs, attrs))
        return mark_safe(
            f'<select name="{escape(name)}"{attributes}>{options}</select>'
        )  # every part escaped


class QuickNumberInput(forms.NumberInput):
    """A number input rendered in Python, as QuickSelect renders a select: Django's input.html and attrs.html
    templates were a tenth of the filter form's time. Same markup as Django's NumberInput."""

    def render(self, name, value, attrs=None, renderer=None):
        value = self.format_value(value)
        shown = "" if value is None else f' value="{escape(value)}"'
        attributes = flatatt(self.build_attrs(self.attrs, attrs))
        return mark_safe(f'<input type="{self.input_type}" name="{escape(name)}"{shown}{attributes}>')


class ReadOnceChoiceField(django_filters.fields.ModelChoiceField):
    """A model choice by code looked up among the rows the page reads anyway — `rows()`, read once per page
    (projects.selectors.provinces_in_order and its like) — rather than by a query of its own. The same
    answers as ModelChoiceField: the row with that code, None when empty, "invalid_choice" otherwise."""

    def __init__(self, *args, rows, **kwargs):
        self.rows = rows
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        if read_memo() is None:  # not in a page's reading block (an admin changelist): one indexed lookup
            return super().to_python(value)
        if value in self.empty_values:
            return None
        self.validate_no_null_characters(value)
        found = next((row for row in self.rows() if getattr(row, self.to_field_name) == value), None)
        if found is None:
            raise ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice", params={"value": value}
            )
        return found


class ReadOnceChoiceFilter(django_filters.ModelChoiceFilter):
    field_class = ReadOnceChoiceField


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

    province = ReadOnceChoiceFilter(
        rows=provinces_in_order,
        label=_("donor province"),
        queryset=Province.objects.all(),
        to_field_name="code",
        method="noop",
        widget=QuickSelect,
    )
    category = ReadOnceChoiceFilter(
        rows=categories_in_order,
        label=_("category"),
        queryset=Category.objects.all(),
        to_field_name="code",
        method="noop",
        widget=QuickSelect,
    )
    recipient = ReadOnceChoiceFilter(
        rows=recipient_units,
        label=_("recipient unit"),
        queryset=RecipientUnit.objects.all(),
        to_field_name="code",
        method="noop",
        widget=QuickSelect,
    )
    status = django_filters.ChoiceFilter(
        label=_("status"), choices=Project.Status.choices, method="noop", widget=QuickSelect
    )
    start_year = YearFilter(
        label=_("start year"), method="noop", min_value=1990, max_value=2100, widget=QuickNumberInput
    )
    as_of = django_filters.DateFilter(label=_("as of"), method="noop")

    class Meta:
        model = Project
        fields = []
        form = SummaryFilterForm

    def offer(self, *, provinces, categories, recipients=None):
        """Offer these already loaded provinces, categories (and recipient units, as (code, label) pairs:
        projects.narrowing.recipient_choices) in the form's selects (the page has read them for its tables),
        rather than reading them again for the form."""
        offered = [("province", sorted(provinces, key=lambda p: (p.order, p.code))), ("category", categories)]
        for name, objects in offered:
            field = self.form.fields[name]
            field.widget.choices = [("", field.empty_label)] + [
                (obj.code, field.label_from_instance(obj)) for obj in objects
            ]
        if recipients is not None:
            field = self.form.fields["recipient"]
            field.widget.choices = [("", field.empty_label), *recipients]

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
    labels["format"] = _("download format")
    return {capfirst(str(labels.get(name, name))): messages for name, messages in errors.items()}
