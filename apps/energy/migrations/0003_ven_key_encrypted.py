"""The VEN's private key encrypted at rest: a new column, every stored key encrypted into it
(apps/energy/keys.py, keys derived from ENERGY_SECRET_KEYS), then the plain column dropped."""

from django.db import migrations, models


def encrypt_keys(apps, schema_editor):
    from apps.energy import keys

    Ven = apps.get_model("energy", "Ven")
    for ven in Ven.objects.exclude(client_key_pem="").only("pk", "client_key_pem"):
        Ven.objects.filter(pk=ven.pk).update(client_key_encrypted=keys.encrypt(ven.client_key_pem))


def decrypt_keys(apps, schema_editor):
    from apps.energy import keys

    Ven = apps.get_model("energy", "Ven")
    for ven in Ven.objects.exclude(client_key_encrypted="").only("pk", "client_key_encrypted"):
        Ven.objects.filter(pk=ven.pk).update(client_key_pem=keys.decrypt(ven.client_key_encrypted))


class Migration(migrations.Migration):
    dependencies = [("energy", "0002_ven_telemetry")]

    operations = [
        migrations.AddField(
            model_name="ven",
            name="client_key_encrypted",
            field=models.TextField(blank=True, editable=False),
        ),
        migrations.RunPython(encrypt_keys, decrypt_keys),
        migrations.RemoveField(model_name="ven", name="client_key_pem"),
    ]
