from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0003_cpa005_receipt_email"),
    ]

    operations = [
        migrations.AddField(
            model_name="billingprofile",
            name="cost_update_interval_seconds",
            field=models.PositiveIntegerField(
                default=300,
                help_text=(
                    "How often an OCPP 2.0.1 station is sent the running cost of a session "
                    "(CostUpdated); 0: only on price-relevant events."
                ),
            ),
        ),
    ]
