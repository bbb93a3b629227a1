from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP_NAME = "Staff managers"
PERMISSIONS = [
    (app_label, f"{action}_{model}")
    for app_label, model in [("accounts", "staff"), ("subjects", "subjectgroup")]
    for action in ("add", "change", "delete", "view")
]


def create_staff_managers(apps, schema_editor):
    # Permissions are normally created after all migrations have run; this
    # group needs them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=GROUP_NAME)
    for app_label, codename in PERMISSIONS:
        group.permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )


def delete_staff_managers(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("subjects", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(create_staff_managers, delete_staff_managers),
    ]
