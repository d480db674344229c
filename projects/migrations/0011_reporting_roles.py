"""Gives the role groups their powers over progress reports, site photos and closed quarters (DESIGN 3, 7).

Province and recipient staff write their scope's reports (the scope and the state rules are the code's);
the national office reviews reports and closes quarters; managers read.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

REPORT = [("projects", "progressreport"), ("projects", "reportphoto")]
CLOSED = [("projects", "closedperiod")]


def perms(actions, models_):
    return [(app, f"{action}_{model}") for action in actions for app, model in models_]


ROLES = {
    "全国总工会": perms(["add", "change", "delete", "view"], REPORT)
    + perms(["add", "change", "view"], CLOSED)
    + [
        ("projects", "review_progressreport"),
        ("projects", "import_progressreport"),
        ("projects", "export_progressreport"),
    ],
    "管理人员": perms(["view"], REPORT + CLOSED) + [("projects", "export_progressreport")],
    "省市填报员": perms(["add", "change", "delete", "view"], REPORT)
    + perms(["view"], CLOSED)
    + [("projects", "import_progressreport"), ("projects", "export_progressreport")],
    "受援单位填报员": perms(["add", "change", "delete", "view"], REPORT) + perms(["view"], CLOSED),
}


def install(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codes in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        for app_label, codename in codes:
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )


def remove(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codes in ROLES.items():
        group = Group.objects.filter(name=name).first()
        if group is None:
            continue
        for app_label, codename in codes:
            group.permissions.remove(
                *Permission.objects.filter(content_type__app_label=app_label, codename=codename)
            )


class Migration(migrations.Migration):
    dependencies = [
        ("projects", "0010_progress_reports_and_closed_quarters"),
        ("projects", "0003_roles"),
    ]

    operations = [migrations.RunPython(install, remove)]
