import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("ocpp", "0002_stationevent"),
        ("stations", "0004_station_security_profile"),
    ]

    operations = [
        migrations.CreateModel(
            name="StationMessageLimits",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("reported", models.JSONField(blank=True, default=dict)),
                ("overrides", models.JSONField(blank=True, default=dict)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "station",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="message_limits",
                        to="stations.station",
                    ),
                ),
            ],
            options={"verbose_name_plural": "station message limits"},
        ),
    ]
