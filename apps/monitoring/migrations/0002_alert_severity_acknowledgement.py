"""Alerts gain a severity (set from the kind for the alerts already raised), and who
acknowledged or resolved them."""

from django.db import migrations, models


def set_severity(apps, schema_editor):
    Alert = apps.get_model("monitoring", "Alert")
    # A station offline, or a fault of the whole station: nobody can charge there.
    Alert.objects.filter(
        models.Q(kind="offline") | models.Q(kind="faulted", evse__isnull=True)
    ).update(severity="critical")


class Migration(migrations.Migration):

    dependencies = [
        ('monitoring', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='alert',
            name='acknowledged_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='acknowledged at'),
        ),
        migrations.AddField(
            model_name='alert',
            name='acknowledged_by',
            field=models.CharField(blank=True, max_length=255, verbose_name='acknowledged by'),
        ),
        migrations.AddField(
            model_name='alert',
            name='note',
            field=models.CharField(blank=True, max_length=500, verbose_name='note'),
        ),
        migrations.AddField(
            model_name='alert',
            name='resolved_by',
            field=models.CharField(blank=True, max_length=255, verbose_name='resolved by'),
        ),
        migrations.AddField(
            model_name='alert',
            name='severity',
            field=models.CharField(choices=[('critical', 'Critical'), ('warning', 'Warning')], db_index=True, default='warning', max_length=10, verbose_name='severity'),
        ),
        migrations.AddConstraint(
            model_name='alert',
            constraint=models.CheckConstraint(condition=models.Q(('acknowledged_at__isnull', True), ('acknowledged_at__gte', models.F('raised_at')), _connector='OR'), name='alert_acknowledged_after_raise'),
        ),
        migrations.RunPython(set_severity, migrations.RunPython.noop),
    ]
