import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("ocpp", "0003_stationmessagelimits"),
        ("stations", "0004_station_security_profile"),
    ]

    operations = [
        migrations.CreateModel(
            name="TransactionSequence",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("transaction_id", models.CharField(max_length=36)),
                ("seq_nos", models.JSONField(blank=True, default=list)),
                ("first_seq_no", models.IntegerField(blank=True, null=True)),
                ("ended", models.BooleanField(default=False)),
                ("last_event_at", models.DateTimeField(blank=True, null=True)),
                ("lost", models.JSONField(blank=True, default=list)),
                (
                    "station",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="stations.station",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("station", "transaction_id"), name="ocpp_sequence_per_transaction"
                    )
                ]
            },
        ),
    ]
