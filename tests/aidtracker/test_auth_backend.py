"""aidtracker.auth.OneQueryModelBackend: the permissions Django's ModelBackend gives, in one statement."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import AnonymousUser, Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from aidtracker.auth import OneQueryModelBackend

pytestmark = pytest.mark.django_db


def _fresh(user):
    return get_user_model().objects.get(pk=user.pk)  # no permission cache


def _both(user):
    return OneQueryModelBackend().get_all_permissions(_fresh(user)), ModelBackend().get_all_permissions(
        _fresh(user)
    )


@pytest.mark.parametrize("persona", ["national", "manager", "staff_bj", "staff_hb", "recipient_ks"])
def test_every_role_gets_the_permissions_django_gives(persona, request):
    user = request.getfixturevalue(persona)
    ours, django = _both(user)
    assert ours == django
    assert ours  # every role holds some


def test_direct_and_group_permissions_together_in_one_query(staff_bj):
    extra = Permission.objects.get(codename="view_all_provinces")
    staff_bj.user_permissions.add(extra)
    group = Group.objects.create(name="readers")
    group.permissions.add(Permission.objects.get(codename="view_logentry"))
    staff_bj.groups.add(group)
    user = _fresh(staff_bj)
    with CaptureQueriesContext(connection) as queries:
        assert user.has_perm("agreements.view_all_provinces")
        assert user.has_perm("admin.view_logentry")
        assert not user.has_perm("auth.delete_user")
    assert len(queries) == 1  # read once, then cached on the user as Django does
    ours, django = _both(staff_bj)
    assert ours == django


def test_inactive_and_anonymous_users_have_none(staff_bj):
    staff_bj.is_active = False
    staff_bj.save()
    assert OneQueryModelBackend().get_all_permissions(_fresh(staff_bj)) == set()
    assert not _fresh(staff_bj).has_perm("projects.view_project")
    assert OneQueryModelBackend().get_all_permissions(AnonymousUser()) == set()


def test_a_permission_taken_away_is_gone_at_the_next_request(client, manager):
    client.force_login(manager)
    page = client.get("/dashboard/")
    assert page.status_code == 200
    assert "/admin/projects/project/?" in page.content.decode()  # drill-down links: a national view
    manager.groups.clear()
    manager.user_permissions.clear()
    page = client.get("/dashboard/")
    assert page.status_code == 200  # the figures are for every signed-in user
    assert "/admin/projects/project/?" not in page.content.decode()  # but no longer links to every row
