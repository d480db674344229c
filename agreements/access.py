"""Who may see which rows: the one scoping function every entry point goes through (DESIGN section 3).

A model takes part by naming, as class attributes, the lookups that reach its donor province
(`scope_province`) and its recipient unit (`scope_recipient`).
"""

from django.db.models import QuerySet

ALL_PROVINCES_PERMISSION = "agreements.view_all_provinces"


def sees_everything(user) -> bool:
    """National office and managers: every province's rows."""
    return bool(user and user.is_active and (user.is_superuser or user.has_perm(ALL_PROVINCES_PERMISSION)))


def profile_of(user):
    """The user's StaffProfile, or None."""
    if not (user and user.is_authenticated):
        return None
    try:
        return user.staff_profile
    except user._meta.model.staff_profile.RelatedObjectDoesNotExist:
        return None


def within(queryset: QuerySet, *, province=None, recipient=None) -> QuerySet:
    """Rows of `queryset` of the donor province `province` (a Province or its id) and of the recipient unit
    `recipient` or a unit below it — the one rule for "rows of a place", through the lookups the model names
    (`scope_province`, `scope_recipient`). A user's scope is such a place (Scope.narrow), and so are the
    dashboard's `province` and `recipient` filters (the selectors' `narrow`), which the changelists and
    the drill-down links apply too."""
    model = queryset.model
    if province is not None:
        queryset = queryset.filter(**{model.scope_province: province})
    if recipient is not None:
        queryset = queryset.filter(**{f"{model.scope_recipient}__path__startswith": recipient.path})
    return queryset


class Scope:
    """Which rows a user may see: everything, one place's rows (a donor province's, or a recipient unit's
    subtree's — see `within`), or nothing.

    The place is the one source: `narrow` applies it to a queryset (scope_queryset), and `covers` answers of
    a set of rows named by the dashboard's province and recipient filters — another place — whether `narrow`
    keeps all of it (that place lies inside the scope's), so the dashboard can tell which figures a user's
    changelist shows in full without a query per figure. tests/agreements/test_scope_rule.py holds `covers`
    equal to what scope_queryset keeps, for every role."""

    def __init__(self, user):
        self.everything = sees_everything(user)
        profile = None if self.everything or not (user and user.is_active) else profile_of(user)
        self.profile = profile
        # The scope's place: a province, or else a recipient unit (its subtree); neither: nothing.
        self.province = profile.province if profile and profile.province_id else None
        self.recipient = profile.recipient if profile and not self.province and profile.recipient_id else None
        self._paths = {}

    def signature(self) -> tuple:
        """Everything `narrow`'s SQL depends on (for aidtracker.compiled's keys)."""
        return (
            self.everything,
            self.province.pk if self.province else None,
            (self.recipient.pk, self.recipient.path) if self.recipient else None,
        )

    def narrow(self, queryset: QuerySet) -> QuerySet:
        if self.everything:
            return queryset
        if not hasattr(queryset.model, "scope_province") or not (self.province or self.recipient):
            return queryset.none()
        return within(queryset, province=self.province, recipient=self.recipient)

    def covers(self, *, province: str | None = None, recipient: str | None = None) -> bool:
        """Whether `narrow` keeps every row `within` the place named by these codes (None: any province,
        any recipient unit): whether that place lies inside the scope's."""
        if self.everything:
            return True
        if self.province:
            return province is not None and province == self.province.code
        if self.recipient and recipient is not None:
            return self._path(recipient).startswith(self.recipient.path)
        return False

    def _path(self, code: str) -> str:
        """The path of the unit with this code ("" for none: never inside a subtree)."""
        if not self._paths:
            from agreements.models import RecipientUnit

            self._paths = dict(RecipientUnit.objects.values_list("code", "path"))
        return self._paths.get(code, "") or ""


def scope_queryset(user, queryset: QuerySet) -> QuerySet:
    """Narrow `queryset` to the rows `user` may see; an unknown or unscoped user sees nothing."""
    return Scope(user).narrow(queryset)


def in_scope(user, obj) -> bool:
    """Whether `user` may see `obj` (True for no object, an unsaved one, or a model that is not scoped)."""
    if obj is None or obj.pk is None or getattr(obj, "_in_user_scope", False):
        return True
    model = type(obj)
    if not hasattr(model, "scope_province") or sees_everything(user):
        return True
    return scope_queryset(user, model._default_manager.filter(pk=obj.pk)).exists()


def user_province(user):
    """The province a province-staff user works for, or None."""
    profile = profile_of(user)
    return profile.province if profile and profile.province_id else None
