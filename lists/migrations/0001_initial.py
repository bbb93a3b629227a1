import uuid
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    # The token moved here from accounts: the table exists; only its name changes.
    dependencies = [
        ('accounts', '0008_names_and_dates_within_range'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.CreateModel(
            name='DirectoryVersion',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('token', models.UUIDField(default=uuid.uuid4)),
            ],
            options={'db_table': 'accounts_directoryversion'},
        )]),
        migrations.AlterModelTable(name='directoryversion', table=None),
    ]
