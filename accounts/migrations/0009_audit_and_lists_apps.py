from django.db import migrations


class Migration(migrations.Migration):
    """The audit events and the lists' token now belong to the audit and lists apps."""

    dependencies = [
        ('accounts', '0008_names_and_dates_within_range'),
        ('audit', '0001_initial'),
        ('lists', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.DeleteModel(name='DirectoryVersion'),
            migrations.DeleteModel(name='AuditEvent'),
        ]),
    ]
