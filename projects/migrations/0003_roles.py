"""Creates the four role groups of DESIGN section 3 with their Django permissions.

Code checks these permissions and the StaffProfile, never the group names.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

DATA = ["agreement", "project", "disbursement", "facilityoutput"]
REFERENCE = [
    ("agreements", "province"), ("agreements", "recipientunit"), ("agreements", "pairing"),
    ("projects", "category"), ("projects", "facilitytype"),
]
APP_OF = {"agreement": "agreements"}


def app_of(model):
    return APP_OF.get(model, "projects")


def perms(actions, models_):
    return [(app, f"{action}_{model}") for action in actions for app, model in models_]


def install(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    data = [(app_of(m), m) for m in DATA]
    everything = [(a, m) for a, m in REFERENCE] + data + [("agreements", "staffprofile")]
    roles = {
        "全国总工会": perms(["add", "change", "delete", "view"], everything)
        + perms(["import", "export"], data)
        + [("agreements", "view_all_provinces"), ("auth", "add_user"), ("auth", "change_user"),
           ("auth", "view_user"), ("auth", "view_group")],
        "管理人员": perms(["view"], everything) + perms(["export"], data)
        + [("agreements", "view_all_provinces")],
        "省市填报员": perms(["view"], REFERENCE)
        + perms(["add", "change", "view", "import", "export"], data)
        + perms(["delete"], [("projects", "disbursement"), ("projects", "facilityoutput")]),
        "受援单位填报员": perms(["view"], REFERENCE) + perms(["view"], data),
    }
    for name, codes in roles.items():
        group, _ = Group.objects.get_or_create(name=name)
        found = []
        for app_label, codename in codes:
            found.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
        group.permissions.set(found)


class Migration(migrations.Migration):
    dependencies = [
        ("projects", "0002_reference_data"),
        ("agreements", "0002_reference_data"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
