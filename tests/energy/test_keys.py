"""The VEN's private key is encrypted at rest (Fernet, keys derived from ENERGY_SECRET_KEYS):
the tenant's table never holds it in clear, rotation keeps old keys readable, an unreadable key
fails the poll cleanly, and the data migration encrypts keys stored before it."""

from __future__ import annotations

import importlib
import tempfile
from pathlib import Path

import pytest
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.test import override_settings

from apps.energy import keys, services
from apps.energy.choices import PollOutcome
from apps.energy.models import Ven
from tests.energy.conftest import make_certificates

_FOLDER = make_certificates(Path(tempfile.mkdtemp(prefix="ven-keys-")))
PEM = (_FOLDER / "ven.key").read_text()
CERT = (_FOLDER / "ven.pem").read_text()
CA = (_FOLDER / "ca.pem").read_text()


def stored(ven: Ven) -> str:
    """The column as PostgreSQL holds it (no model code in between)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT client_key_encrypted FROM energy_ven WHERE id = %s", [ven.pk])
        return cursor.fetchone()[0]


def columns() -> set[str]:
    with connection.cursor() as cursor:
        return {
            c.name for c in connection.introspection.get_table_description(cursor, "energy_ven")
        }


def make_ven(garage, name="keyed") -> Ven:
    return services.ven_create(
        site=garage.site,
        node=garage.supply,
        name=name,
        vtn_url="https://vtn.example/OpenADR2/Simple/2.0b",
        ven_name=name,
        client_cert_pem=CERT,
        client_key_pem=PEM,
        vtn_ca_pem=CA,
    )


@override_settings(ENERGY_SECRET_KEYS=["first secret"])
def test_the_key_is_stored_encrypted_and_read_back_in_clear(garage):
    ven = make_ven(garage)
    raw = stored(ven)
    assert "PRIVATE KEY" not in raw and PEM.splitlines()[1] not in raw
    assert "client_key_pem" not in columns()  # no plain column left
    assert Ven.objects.get(pk=ven.pk).client_key_pem == PEM
    assert Ven.objects.get(pk=ven.pk).has_client_key


def test_rotation_keeps_old_keys_readable_then_moves_them_to_the_new_secret(garage):
    with override_settings(ENERGY_SECRET_KEYS=["old secret"]):
        ven = make_ven(garage)
    with override_settings(ENERGY_SECRET_KEYS=["new secret", "old secret"]):
        assert Ven.objects.get(pk=ven.pk).client_key_pem == PEM
        assert services.ven_keys_rotate() == 1
    with override_settings(ENERGY_SECRET_KEYS=["new secret"]):
        assert Ven.objects.get(pk=ven.pk).client_key_pem == PEM
    with override_settings(ENERGY_SECRET_KEYS=["old secret"]), pytest.raises(keys.KeyUnavailable):
        Ven.objects.get(pk=ven.pk).client_key_pem  # noqa: B018


def test_a_key_no_secret_opens_fails_the_poll_without_crashing(garage):
    with override_settings(ENERGY_SECRET_KEYS=["lost secret"]):
        ven = make_ven(garage)
    with override_settings(ENERGY_SECRET_KEYS=["another secret"]):
        result = services.ven_poll(ven_id=ven.pk, force=True)
    assert result.outcome == PollOutcome.REFUSED
    assert "ENERGY_SECRET_KEYS" in result.error
    ven.refresh_from_db()
    assert "ENERGY_SECRET_KEYS" in ven.last_error
    # A new key replaces it (and the VEN registers again with it).
    with override_settings(ENERGY_SECRET_KEYS=["another secret"]):
        services.ven_update(ven=ven, client_key_pem=PEM)
        assert Ven.objects.get(pk=ven.pk).client_key_pem == PEM


def test_the_default_secret_is_derived_from_secret_key_not_equal_to_it(settings):
    settings.ENERGY_SECRET_KEYS = []
    assert keys.secrets_in_use() == (settings.SECRET_KEY,)
    assert keys.derive(settings.SECRET_KEY) != settings.SECRET_KEY.encode()
    assert keys.decrypt(keys.encrypt(PEM)) == PEM


@override_settings(ENERGY_SECRET_KEYS=["migration secret"])
def test_the_data_migration_encrypts_keys_stored_in_clear(garage):
    ven = make_ven(garage, "legacy")
    # The table as it was before 0003 (the plain column; rolled back with the test).
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # (no pending FK checks before DDL)
        cursor.execute("ALTER TABLE energy_ven ADD COLUMN client_key_pem text NOT NULL DEFAULT ''")
        cursor.execute(
            "UPDATE energy_ven SET client_key_pem = %s, client_key_encrypted = '' WHERE id = %s",
            [PEM, ven.pk],
        )
    migration = importlib.import_module("apps.energy.migrations.0003_ven_key_encrypted")
    loader = MigrationLoader(connection)
    state = loader.project_state(("energy", "0002_ven_telemetry"))
    migration.Migration.operations[0].state_forwards("energy", state)  # both columns

    migration.encrypt_keys(state.apps, None)

    raw = stored(ven)
    assert raw and "PRIVATE KEY" not in raw
    assert keys.decrypt(raw) == PEM
    # ... and back (the reverse migration).
    with connection.cursor() as cursor:
        cursor.execute("UPDATE energy_ven SET client_key_pem = '' WHERE id = %s", [ven.pk])
    migration.decrypt_keys(state.apps, None)
    with connection.cursor() as cursor:
        cursor.execute("SELECT client_key_pem FROM energy_ven WHERE id = %s", [ven.pk])
        assert cursor.fetchone()[0] == PEM


def test_the_rekey_command_moves_every_key_to_the_first_secret(alpha, garage):
    from io import StringIO

    from django.core.management import call_command

    with override_settings(ENERGY_SECRET_KEYS=["old secret"]):
        ven = make_ven(garage)
    out = StringIO()
    with override_settings(ENERGY_SECRET_KEYS=["new secret", "old secret"]):
        call_command("energy_rekey", schema=[alpha.schema_name], stdout=out)
    assert f"{alpha.schema_name}: 1 key(s) re-encrypted" in out.getvalue()
    connection.set_tenant(alpha)
    with override_settings(ENERGY_SECRET_KEYS=["new secret"]):
        assert Ven.objects.get(pk=ven.pk).client_key_pem == PEM
