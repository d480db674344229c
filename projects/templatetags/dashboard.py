"""Formatting and drill-down links for the dashboard templates (display only; figures come from selectors)."""

import html
from urllib.parse import quote_plus

from django import template
from django.forms.models import ModelChoiceIterator
from django.urls import NoReverseMatch, reverse
from django.utils.html import conditional_escape, escape
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.text import capfirst
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from agreements.access import Scope
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


_STAND_IN = "\x00row\x00"  # a value no row has, standing for the row's in _Links.url's templates


class _Links:
    """What every drill-down link on one page shares, worked out once per page: the changelist URLs, the
    filters as parameters, the category tree and the user's scope."""

    def __init__(self, request, filters, parents=None):
        self.filters = filters
        self.urls = {}
        for target, name in CHANGELISTS.items():
            try:
                self.urls[target] = reverse(name)
            except NoReverseMatch:
                self.urls[target] = ""
        # as_of rides along: the disbursement list then holds exactly the disbursements summed, and the
        # project and agreement lists sum only those in their disbursed columns.
        as_of = filters.as_of.isoformat() if filters.as_of else None
        self.project_params = {**filters.as_json(), "as_of": as_of}
        self.agreement_params = {
            "province": self.project_params["province"],
            "recipient": self.project_params["recipient"],
            "as_of": as_of,
            "counted": "1",
        }
        self.scope = Scope(request.user)
        self._parents = parents
        self._pairs = {}
        self._templates = {}

    def parents(self):
        """{category code: its parent's code or None}."""
        if self._parents is None:
            self._parents = dict(Category.objects.values_list("code", "parent__code"))
        return self._parents

    def row_value(self, key, value):
        """The parameter value selecting exactly a row's projects *within the filters in force*, or None when
        the row and the filter exclude each other (then its figures are zero and there is nothing to list).

        A row's own value replaces the filter's only when it is the narrower of the two: a sub-category row
        under a category filter, a unit below the filtered one. A top-level category row under a sub-category
        filter selects the filter's sub-category.
        """
        filters = self.filters
        if key == "category" and filters.category is not None:
            current = filters.category.code
            if value == current or self.parents().get(value) == current:
                return value
            return current if self.parents().get(current) == value else None
        if key == "province" and filters.province is not None:
            return value if str(value) == filters.province.code else None
        if key == "start_year" and filters.start_year is not None:
            return value if str(value) == str(filters.start_year) else None
        return value

    def url(self, target, key=None, value=None, extra=None):
        """The admin changelist URL holding exactly the rows behind a figure, or "" when there is none
        (_full_url)."""
        return self._filled(0, target, key, value, extra)

    def href(self, target, key=None, value=None, extra=None):
        """url(), HTML-escaped for an href. The row's `key=value` is URL-encoded (letters, digits and
        %-escapes: nothing to escape), so a template's parts are escaped once per page."""
        return self._filled(1, target, key, value, extra)

    def _filled(self, escaped, target, key, value, extra):
        """The URL (`escaped` 0) or its HTML-escaped form (1), from the template where there is one."""
        templates = self._template(target, key, extra)
        if templates is None:
            url = self._full_url(target, key, value, extra)
            return html.escape(url) if escaped else url
        if key and value in (None, "", 0):
            return ""
        parts = templates[escaped]
        return parts[0] if len(parts) == 1 else f"{parts[0]}{self._pair(key, value)}{parts[1]}"

    def _template(self, target, key, extra):
        """A page asks a few hundred URLs that differ only in the row's value. Where nothing but the URL
        depends on that value — the key is not the status (whose value decides whether there are rows at
        all), nor, for a user who does not see everything, a place (whose value decides whether the scope
        covers the rows) — the URL is worked out once per target, key and extra parameters with a stand-in
        value: [the part before the row's `key=value`, the part after] (or [the URL] without a key), as is
        and HTML-escaped. The extra parameters are the same for every row, so the rule's answer for them
        holds for the whole column. None where the full rule must be asked each time."""
        if key == "status" or (key in ("province", "recipient") and not self.scope.everything):
            return None
        index = (target, key, tuple(extra.items()) if extra else ())
        template = self._templates.get(index)
        if template is None:
            if key:
                stand_in = self._full_url(target, key, _STAND_IN, extra)
                template = stand_in.split(self._pair(key, _STAND_IN)) if stand_in else [""]
            else:
                template = [self._full_url(target, None, None, extra)]
            template = self._templates[index] = (template, [html.escape(part) for part in template])
        return template

    def _full_url(self, target, key=None, value=None, extra=None):
        """The admin changelist URL holding exactly the rows behind a figure, or "" when there is none.

        Projects, disbursements and outputs take the dashboard's project filters (and `live=1` when no status
        is chosen); agreements take province and recipient and `counted=1`. The link is drawn only where the
        user's scope covers every row of the figure, so the changelist's count is the figure.
        """
        base = self.urls[target]
        if not base:
            return ""
        params = dict(self.agreement_params if target == "agreement" else self.project_params)
        if key:
            if value in (None, "", 0):
                return ""  # e.g. projects without a start date: no changelist filter selects exactly them
            params[key] = value
        if extra:
            params.update(extra)
        wanted = (extra or {}).get("status") or (value if key == "status" else None)
        if wanted and self.filters.status and self.filters.status != wanted:
            return ""  # e.g. "completed" while showing planned projects: there are no such rows
        if not self.scope.covers(province=params.get("province"), recipient=params.get("recipient")):
            return ""
        if target != "agreement" and not params.get("status"):
            params["live"] = "1"
        return f"{base}?{'&'.join(self._pair(k, v) for k, v in params.items() if v not in (None, ''))}"

    def _pair(self, key, value) -> str:
        """`key=value` URL-encoded as Django's urlencode writes it, each pair encoded once per page (a page
        holds a few hundred links repeating the same few parameters)."""
        pair = self._pairs.get((key, value))
        if pair is None:
            if type(value) in (str, int):  # what urlencode writes for them, without its checks
                pair = f"{quote_plus(key)}={quote_plus(str(value))}"
            else:
                pair = urlencode([(key, value)])
            self._pairs[(key, value)] = pair
        return pair


def _esc(value) -> str:
    """conditional_escape without its lazy-string wrapper (a page escapes a few thousand cells): safe text
    as it is, anything else through html.escape, which django.utils.html.escape calls."""
    if type(value) is str:  # plain text (safe text is a subclass): most cells
        return html.escape(value)
    return value.__html__() if hasattr(value, "__html__") else html.escape(str(value))


def _links(context) -> _Links:
    request = context["request"]
    links = getattr(request, "_dashboard_links", None)
    if links is None or links.filters is not context["filters"]:
        links = _Links(request, context["filters"], context.get("category_parents"))
        request._dashboard_links = links
    return links


@register.simple_tag(takes_context=True)
def drill(context, display, target, key=None, value=None, rows=False, **extra):
    """`display` linked to the changelist of its rows (see _Links.url); `rows=True` marks a figure that is
    the number of those rows (class "rows"), as opposed to a sum over them."""
    return _drill(_links(context), display, target, key, value, rows, extra)


def _drill(links, display, target, key=None, value=None, rows=False, extra=None):
    """drill(), given the page's links (the tags building whole tables look them up once, not per cell)."""
    if key and target != "agreement" or key == "province":
        value = links.row_value(key, value)
        if value is None:
            return display
    href = links.href(target, key, value, extra)
    if not href:
        return display
    # Built directly rather than through format_html: a page holds a few hundred of these links.
    kind = "drill rows" if rows else "drill"
    return mark_safe(f'<a class="{kind}" href="{href}">{_esc(display)}</a>')


class _Column:
    """A column of drill-down cells in a table built in Python: `html(display, value)` is the cell's content
    as _drill writes it (escaped), with what depends on the column alone — target, key, extra parameters,
    the URL template, the link's opening — worked out once per table rather than once per cell."""

    __slots__ = ("links", "target", "key", "extra", "narrowed", "parts", "opening")

    def __init__(self, links, target, key=None, rows=False, extra=None):
        self.links, self.target, self.key, self.extra = links, target, key, extra or None
        self.narrowed = bool(key and target != "agreement" or key == "province")  # as _drill asks row_value
        templates = links._template(target, key, self.extra)
        self.parts = None if templates is None else templates[1]
        self.opening = f'<a class="{"drill rows" if rows else "drill"}" href="'

    def html(self, display, value=None) -> str:
        key = self.key
        if self.narrowed:
            value = self.links.row_value(key, value)
            if value is None:
                return _esc(display)
        parts = self.parts
        if parts is None:
            href = self.links.href(self.target, key, value, self.extra)
        elif key and value in (None, "", 0):
            href = ""
        elif len(parts) == 1:
            href = parts[0]
        else:
            href = f"{parts[0]}{self.links._pair(key, value)}{parts[1]}"
        if not href:
            return _esc(display)
        return f'{self.opening}{href}">{_esc(display)}</a>'


FORMS_KEPT = 256  # filter forms kept (languages x queries x reference data); past it they are made again
_forms: dict = {}


def _form_key(form, fixed) -> tuple | None:
    """Everything filter_fields' HTML depends on: the language (labels), the fixed field, the values given
    for each field and each select's choices (the reference rows the page offers: codes and labels). None
    when the form cannot be keyed so: errors shown beside the fields, or choices still to be read from the database."""
    if form.errors or not hasattr(form.data, "getlist"):
        return None
    choices = []
    for field in form.fields.values():
        offered = getattr(field.widget, "choices", ())
        if isinstance(offered, ModelChoiceIterator):  # rows not offered by the page: read when iterated
            return None
        choices.append(tuple((str(value), str(label)) for value, label in offered))
    values = tuple(tuple(form.data.getlist(name)) for name in form.fields)
    return (get_language(), fixed, values, tuple(choices))


@register.simple_tag
def filter_fields(form, fixed):
    """The filter form's fields, each in its label, but the one the page's path fixes (`fixed`, "" for
    none); built in Python as project_rows builds table rows (the widgets render themselves in Python too:
    projects.filters.QuickSelect). The date is a plain date input showing the value as given.

    Kept per process under _form_key — the language, the query and the reference rows offered, which is all
    the form shows (no figure): a page's hundred-odd options and six widgets were a millisecond of each
    page's rendering. A renamed unit or a new category is another key, so it shows at the next request."""
    key = _form_key(form, fixed)
    found = _forms.get(key) if key is not None else None
    if found is None:
        found = _filter_fields(form, fixed)
        if key is not None:
            if len(_forms) >= FORMS_KEPT:
                _forms.clear()
            _forms[key] = found
    return found


def _filter_fields(form, fixed):
    out = []
    for field in form:
        if field.name == fixed:
            continue
        if field.name == "as_of":
            value = field.value()
            widget = f'<input type="date" name="as_of" value="{escape("" if value is None else value)}">'
        else:
            widget = field.as_widget()
        out.append(f"<label>{conditional_escape(capfirst(field.label))}\n      {widget}\n    </label>")
    return mark_safe("\n".join(out))  # every part escaped


@register.simple_tag(takes_context=True)
def page_query(context, *drop):
    """The current query string without the given parameters (the ones a page fixes in its path)."""
    query = context["request"].GET.copy()
    for key in drop:
        query.pop(key, None)
    encoded = query.urlencode()
    return f"?{encoded}" if encoded else ""


@register.simple_tag(takes_context=True)
def project_table(context, rows, totals, caption, name_header, key, page, with_agreements):
    """_project_table.html's table — caption, header, project_rows' body and, with `totals`, the total row
    linked as the body's cells are — built in Python: the page has three or four of them, and the template
    engine's translate and drill tags were a third of the page's rendering."""
    links = _links(context)
    headers = [(_("agreements"), _("pledged (10,000 yuan)"))] if with_agreements else []
    headers = [h for pair in headers for h in pair] + [
        _("projects"),
        _("aid amount (10,000 yuan)"),
        _("disbursed (10,000 yuan)"),
        _("execution rate"),
        _("completed"),
        _("completion rate"),
        _("beneficiaries"),
    ]
    head = "".join(f'<th scope="col" class="num">{_esc(h)}</th>' for h in headers)
    out = [
        '<table class="figures">',
        f"  <caption>{_esc(caption)}</caption>",
        f'  <thead>\n    <tr>\n      <th scope="col">{_esc(name_header)}</th>{head}\n    </tr>\n  </thead>',
        f"  <tbody>\n{project_rows(context, rows, key, page, with_agreements)}\n  </tbody>",
    ]
    if totals:
        cells = []
        if with_agreements:
            cells.append(_Column(links, "agreement", rows=True).html(number(totals["agreements"])))
            cells.append(_Column(links, "agreement").html(money.wan(totals["pledged"])))
        cells += [
            _Column(links, "project", rows=True).html(number(totals["projects"])),
            _Column(links, "project").html(money.wan(totals["budget"])),
            _Column(links, "disbursement").html(money.wan(totals["disbursed"])),
            _esc(percent(totals["execution"])),
            _Column(links, "project", "status", True).html(number(totals["completed"]), "completed"),
            _esc(percent(totals["completion"])),
            _Column(links, "project").html(number(totals["beneficiaries"])),
        ]
        body = "".join(f'<td class="num">{cell}</td>' for cell in cells)
        total = _esc(_("Total"))  # outside the f-string, where makemessages finds it
        out.append(f'  <tfoot>\n    <tr>\n      <th scope="row">{total}</th>{body}\n    </tr>\n  </tfoot>')
    out.append("</table>")
    return mark_safe("\n".join(out))  # every part escaped


@register.simple_tag(takes_context=True)
def project_rows(context, rows, key, page, with_agreements):
    """The body rows of _project_table.html, built in Python rather than through the template engine: a page
    holds up to a few hundred cells, and resolving each cell's variables, filters and tag through templates
    was most of the page's rendering time. Same markup, same links (`drill`)."""
    if page == "province":
        link_name, fixed = "dashboard:province", "province"
    elif page == "category":
        link_name, fixed = "dashboard:category", "category"
    else:
        link_name = fixed = None
    query = page_query(context, fixed) if fixed else ""
    # The row's page URL: reversed once with a stand-in code (codes are digits and letters).
    page_url = reverse(link_name, args=["0STANDIN0"]).split("0STANDIN0") if link_name else None
    links = _links(context)
    # The columns, in order: (figure, how it is shown, its drill-down cells or None for plain ones).
    columns = [
        ("agreements", number, "agreement", True, None),
        ("pledged", money.wan, "agreement", False, None),
    ]
    columns = (columns if with_agreements else []) + [
        ("projects", number, "project", True, None),
        ("budget", money.wan, "project", False, None),
        ("disbursed", money.wan, "disbursement", False, None),
        ("execution", percent, None, False, None),
        ("completed", number, "project" if key else None, True, {"status": "completed"}),
        ("completion", percent, None, False, None),
        ("beneficiaries", number, "project", False, None),
    ]
    makers = [
        (figure, shown, _Column(links, target, key, linked_rows, extra).html if target else None)
        for figure, shown, target, linked_rows, extra in columns
    ]
    out = []
    for row in rows:
        code = row.get("code")
        name = conditional_escape(row["name"])
        if link_name:
            label = f"{escape(row['code'])} {name}" if page == "category" else name
            url = page_url[0] + str(row["code"]) + page_url[1] if row["code"].isalnum() else None
            url = url or reverse(link_name, args=[row["code"]])
            name = f'<a href="{escape(url + query)}">{label}</a>'
        depth = f' class="depth-{row["depth"]}"' if row.get("depth") else ""
        body = "".join(
            f'<td class="num">{_esc(shown(row[figure])) if cell is None else cell(shown(row[figure]), code)}</td>'
            for figure, shown, cell in makers
        )
        zero = "" if row["projects"] else ' class="zero"'
        out.append(f'<tr{zero}><th scope="row"{depth}>{name}</th>{body}</tr>')
    return mark_safe("\n".join(out))  # every part escaped


@register.simple_tag(takes_context=True)
def agreement_rows(context, rows):
    """The body rows of the province page's agreements table, built in Python as project_rows builds
    _project_table.html's: code, title, recipient, status, pledged, projects and aid amount (linked to the
    agreement's projects), disbursed, execution rate; a row that is not counted is marked "zero"."""
    links = _links(context)
    projects = _Column(links, "project", "agreement__id__exact", True).html
    budget = _Column(links, "project", "agreement__id__exact").html
    out = []
    for row in rows:
        pk = row["pk"]
        cells = [
            _esc(money.wan(row["pledged"])),
            projects(number(row["projects"]), pk),
            budget(money.wan(row["budget"]), pk),
            _esc(money.wan(row["disbursed"])),
            _esc(percent(row["execution"])),
        ]
        zero = "" if row["counted"] else ' class="zero"'
        text = "".join(f"<td>{conditional_escape(row[key])}</td>" for key in ("title", "recipient", "status"))
        numbers = "".join(f'<td class="num">{cell}</td>' for cell in cells)
        out.append(f'<tr{zero}><th scope="row">{conditional_escape(row["code"])}</th>{text}{numbers}</tr>')
    if not out:
        message = _("No agreements of this province within your access.")
        out.append(f'<tr><td colspan="9">{conditional_escape(message)}</td></tr>')
    return mark_safe("\n".join(out))  # every part escaped


REPORTING_STATES = ("approved", "submitted", "returned", "draft", "missing")


@register.simple_tag(takes_context=True)
def reporting_rows(context, rows, block):
    """The body rows of _reporting.html, built in Python as project_rows builds _project_table.html's: each
    province's projects due a report and their reports by state, linked (`drill`) to the projects behind
    them. Same markup as the template wrote."""
    links = _links(context)
    due = {"due": block["due"]}
    columns = [("due", _Column(links, "project", "province", True, due).html)] + [
        (state, _Column(links, "project", "province", True, {**due, "reporting": state}).html)
        for state in REPORTING_STATES
    ]
    out = []
    for row in rows:
        code = row["code"]
        zero = "" if row["due"] else ' class="zero"'
        body = "".join(f'<td class="num">{cell(number(row[figure]), code)}</td>' for figure, cell in columns)
        out.append(f'<tr{zero}><th scope="row">{conditional_escape(row["name"])}</th>{body}</tr>')
    return mark_safe("\n".join(out))  # every part escaped
