from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tenants", "0003_tenant_accept_unknown_stations_stationidentity"),
    ]

    operations = [
        migrations.AddField(
            model_name="stationidentity",
            name="pending_password_hash",
            field=models.CharField(blank=True, max_length=256),
        ),
    ]
