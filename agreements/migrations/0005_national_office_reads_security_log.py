"""The national office's accounts (not only superusers) may read the security log."""

from django.contrib.auth.management import create_permissions
from django.db import migrations


def grant(apps, schema_editor):
    app_config = apps.get_app_config("agreements")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permission = Permission.objects.get(content_type__app_label="agreements", codename="view_securityevent")
    group, _ = Group.objects.get_or_create(name="全国总工会")
    group.permissions.add(permission)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for group in Group.objects.filter(name="全国总工会"):
        group.permissions.remove(*group.permissions.filter(codename="view_securityevent"))


class Migration(migrations.Migration):
    dependencies = [
        ("agreements", "0004_security_events"),
        ("projects", "0003_roles"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
