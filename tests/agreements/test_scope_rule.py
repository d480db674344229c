"""One rule for a user's scope: the drill-down links' `Scope.covers` says "this changelist shows every row of
the figure" exactly when scope_queryset keeps every row of it, for every role, on real accounts (none of them
a superuser), and for every place the dashboard's province and recipient filters can name."""

import datetime

import pytest
from django.contrib.auth import get_user_model

from agreements import services
from agreements.access import Scope, scope_queryset, within
from agreements.models import Agreement, Province, RecipientUnit
from projects.models import Disbursement, Project, ProjectRollup
from tests.conftest import PASSWORD, make_agreement, make_project

pytestmark = pytest.mark.django_db

PROVINCES = ["110000", "420000", "310000"]
# Whole subtrees, their parents and leaves, in both recipient trees.
UNITS = ["650000", "653100", "653101", "653125", "653200", "653201", "652700", "BT", "BT12", "BT12-221"]


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def places(db):
    """An agreement with one project and one payment for every province and recipient unit above."""
    for province in PROVINCES:
        for unit in UNITS:
            agreement = make_agreement(f"{province}-{unit}", province=province, recipient=unit)
            project = make_project(f"P-{province}-{unit}", agreement, recipient=unit)
            Disbursement.objects.create(
                project=project, date=datetime.date(2022, 5, 1), amount=100, reference="R"
            )


def accounts():
    """Every role, none a superuser; and the edge cases: no profile, an inactive account."""

    def staff(name, role, province=None, recipient=None):
        return services.create_staff_user(
            username=name,
            password=PASSWORD,
            role=role,
            province=Province.objects.get(code=province) if province else None,
            recipient=RecipientUnit.objects.get(code=recipient) if recipient else None,
        )

    users = [
        staff("national_staff", services.ROLE_NATIONAL),
        staff("manager", services.ROLE_MANAGER),
        staff("staff_bj", services.ROLE_PROVINCE, province="110000"),
        staff("staff_hb", services.ROLE_PROVINCE, province="420000"),
        staff("recipient_ks", services.ROLE_RECIPIENT, recipient="653100"),
        staff("recipient_leaf", services.ROLE_RECIPIENT, recipient="653125"),
        staff("recipient_bt12", services.ROLE_RECIPIENT, recipient="BT12"),
        staff("recipient_top", services.ROLE_RECIPIENT, recipient="650000"),
    ]
    users.append(get_user_model().objects.create_user("no_profile", password=PASSWORD, is_staff=True))
    inactive = staff("inactive_bj", services.ROLE_PROVINCE, province="110000")
    inactive.is_active = False
    inactive.save()
    users.append(inactive)
    for user in users:
        assert not user.is_superuser
    return [get_user_model().objects.get(pk=user.pk) for user in users]  # fresh, as a request loads them


@pytest.mark.parametrize("model", [Agreement, Project, Disbursement])
def test_covers_says_exactly_when_scope_queryset_keeps_every_row(places, model):
    provinces = {p.code: p for p in Province.objects.filter(code__in=PROVINCES)}
    units = {u.code: u for u in RecipientUnit.objects.filter(code__in=UNITS)}
    checked = {True: 0, False: 0}
    for user in accounts():
        scope = Scope(user)
        for province in [None, *PROVINCES]:
            for unit in [None, *UNITS]:
                rows = within(
                    model.objects.all(),
                    province=provinces[province] if province else None,
                    recipient=units[unit] if unit else None,
                )
                total = rows.count()
                assert total, (province, unit)
                kept = scope_queryset(user, rows).count()
                covers = scope.covers(province=province, recipient=unit)
                assert covers == (kept == total), (user.username, model.__name__, province, unit, kept, total)
                checked[covers] += 1
    assert checked[True] and checked[False]


def test_the_scope_the_dashboard_filters_and_the_changelists_apply_one_rule(places):
    """The province and recipient narrowing of the dashboard (on projects, agreements and the rollups) is the
    scope's own: the same rows for the same place."""
    from projects.selectors import SummaryFilters, filter_agreements, filter_projects, filter_rollups

    staff = services.create_staff_user(
        username="recipient_ks",
        password=PASSWORD,
        role=services.ROLE_RECIPIENT,
        recipient=RecipientUnit.objects.get(code="653100"),
    )
    unit = RecipientUnit.objects.get(code="653100")
    filters = SummaryFilters(recipient=unit)
    assert set(filter_projects(Project.objects.all(), filters)) == set(
        scope_queryset(staff, Project.objects.all())
    )
    assert set(filter_agreements(Agreement.objects.all(), filters)) == set(
        scope_queryset(staff, Agreement.objects.all())
    )
    live = Project.objects.exclude(status="cancelled")
    rollup_projects = sum(
        filter_rollups(ProjectRollup.objects.all(), filters).values_list("projects", flat=True)
    )
    assert rollup_projects == scope_queryset(staff, live).count()
