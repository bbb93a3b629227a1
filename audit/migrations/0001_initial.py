import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    # The audit events moved here from accounts: the table exists; only its name changes.
    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ('accounts', '0008_names_and_dates_within_range'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.CreateModel(
            name='AuditEvent',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='when')),
                ('kind', models.CharField(choices=[('created', 'Added'), ('changed', 'Changed'), ('deactivated', 'Deactivated'), ('activated', 'Reactivated'), ('deleted', 'Deleted'), ('imported', 'Added by import'), ('import_changed', 'Changed by import'), ('permissions_changed', 'Groups or permissions changed'), ('login', 'Signed in'), ('login_failed', 'Sign-in failed'), ('locked_out', 'Locked out'), ('logout', 'Signed out'), ('password_changed', 'Password changed'), ('password_reset', 'Password reset'), ('invitation_sent', 'Invitation sent'), ('invitation_accepted', 'Invitation accepted')], max_length=30, verbose_name='what')),
                ('actor_label', models.CharField(blank=True, max_length=254, verbose_name='who (as recorded)')),
                ('ip', models.GenericIPAddressField(blank=True, null=True, verbose_name='IP address')),
                ('target_id', models.BigIntegerField(blank=True, null=True)),
                ('target_label', models.CharField(blank=True, max_length=320, verbose_name='record')),
                ('email_typed', models.CharField(blank=True, max_length=254, verbose_name='email typed')),
                ('changes', models.JSONField(blank=True, default=list)),
                ('actor', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='who')),
                ('target_type', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='contenttypes.contenttype')),
            ],
            options={
                'verbose_name': 'audit event',
                'ordering': ['-created_at', '-id'],
                'indexes': [models.Index(fields=['target_type', 'target_id', '-created_at', '-id'], name='audit_by_target'), models.Index(fields=['actor', '-created_at'], name='audit_by_actor'), models.Index(fields=['kind', '-created_at'], name='audit_by_kind'), models.Index(fields=['-created_at', '-id'], name='audit_newest_first')],
                'db_table': 'accounts_auditevent',
            },
        )]),
        migrations.AlterModelTable(name='auditevent', table=None),
    ]
