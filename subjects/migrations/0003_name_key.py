from django.db import migrations, models

import records.validators
import subjects.models


def fill_name_keys(apps, schema_editor):
    """Key every group's name; one named again in another case is renamed, not lost."""
    SubjectGroup = apps.get_model("subjects", "SubjectGroup")
    taken = set()
    for group in SubjectGroup.objects.order_by("pk"):
        name, number = group.name.strip(), 1
        while subjects.models.name_key(name) in taken:
            number += 1
            name = f"{group.name.strip()[:55]} ({number})"
        taken.add(subjects.models.name_key(name))
        group.name, group.name_key = name, subjects.models.name_key(name)
        group.save(update_fields=["name", "name_key"])


class Migration(migrations.Migration):
    dependencies = [
        ("subjects", "0002_version"),
    ]

    operations = [
        migrations.AddField(
            model_name="subjectgroup",
            name="name_key",
            field=models.CharField(max_length=60, null=True, editable=False),
        ),
        migrations.RunPython(fill_name_keys, migrations.RunPython.noop),
        migrations.RemoveConstraint(
            model_name="subjectgroup",
            name="subjectgroup_name_unique_ignoring_case",
        ),
        migrations.AlterField(
            model_name="subjectgroup",
            name="name_key",
            field=subjects.models.NameKeyField(
                editable=False,
                error_messages={"unique": "A subject group with this name already exists."},
                max_length=60,
                unique=True,
            ),
        ),
        migrations.AlterField(
            model_name="subjectgroup",
            name="name",
            field=models.CharField(
                max_length=60,
                validators=[records.validators.validate_name],
                verbose_name="name",
            ),
        ),
    ]
