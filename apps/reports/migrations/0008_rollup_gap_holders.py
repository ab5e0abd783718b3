"""Rollup gaps wait for the transactions that could hold them (virtual transaction ids), not
for a snapshot xmax: xmax is the newest *completed* xid + 1, so a running transaction with a
newer xid, or none yet, was not covered (docs/reports.md, "Rows committed late")."""

import django.contrib.postgres.fields
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0007_rollup_gap"),
    ]

    operations = [
        migrations.RemoveField(model_name="rollupgap", name="until_xid"),
        migrations.AddField(
            model_name="rollupgap",
            name="holders",
            field=django.contrib.postgres.fields.ArrayField(
                base_field=models.CharField(max_length=40), default=list, size=None
            ),
        ),
    ]
