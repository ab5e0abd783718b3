"""Database-level guards for money records (every path, not only the ORM):

* ledger transactions and entries, session costs, receipt lines and payout statement lines
  refuse UPDATE and DELETE (corrections are new, reversing entries);
* every ledger transaction must balance (entries sum to zero, one currency, two entries at
  least) when the database transaction commits: a deferred constraint trigger.

Functions are created in the tenant's schema (first on the search path while migrating), and
django-tenants copies functions and triggers when it clones the template schema.  The balance
check names the schema of the row explicitly, so it holds even if the connection's search path
changes before commit.
"""

from django.db import migrations

IMMUTABLE_TABLES = [
    "billing_ledgertransaction",
    "billing_ledgerentry",
    "billing_sessioncost",
    "billing_receiptline",
    "billing_payoutline",
]

REFUSE_CHANGE = """
CREATE OR REPLACE FUNCTION billing_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'billing: % rows are immutable (% refused); post a reversing entry instead',
        TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END
$$;
"""

CHECK_BALANCED = """
CREATE OR REPLACE FUNCTION billing_check_balanced() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    tx_id bigint;
    total numeric;
    entry_count integer;
    foreign_currency integer;
BEGIN
    IF TG_TABLE_NAME = 'billing_ledgerentry' THEN
        tx_id := NEW.transaction_id;
    ELSE
        tx_id := NEW.id;
    END IF;
    EXECUTE format(
        'SELECT COALESCE(SUM(e.amount), 0), COUNT(*), '
        'COUNT(*) FILTER (WHERE e.currency <> t.currency) '
        'FROM %1$I.billing_ledgertransaction t '
        'LEFT JOIN %1$I.billing_ledgerentry e ON e.transaction_id = t.id '
        'WHERE t.id = $1',
        TG_TABLE_SCHEMA)
        INTO total, entry_count, foreign_currency
        USING tx_id;
    IF entry_count < 2 THEN
        RAISE EXCEPTION 'billing: ledger transaction % has % entries; a posting needs two or more',
            tx_id, entry_count USING ERRCODE = 'check_violation';
    END IF;
    IF total <> 0 THEN
        RAISE EXCEPTION 'billing: ledger transaction % does not balance (entries sum to %)',
            tx_id, total USING ERRCODE = 'check_violation';
    END IF;
    IF foreign_currency > 0 THEN
        RAISE EXCEPTION 'billing: ledger transaction % mixes currencies', tx_id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END
$$;
"""


def forward_sql() -> list[str]:
    statements = [REFUSE_CHANGE, CHECK_BALANCED]
    for table in IMMUTABLE_TABLES:
        statements.append(
            f"CREATE TRIGGER {table}_immutable BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION billing_refuse_change();"
        )
    for table in ("billing_ledgertransaction", "billing_ledgerentry"):
        statements.append(
            f"CREATE CONSTRAINT TRIGGER {table}_balanced AFTER INSERT ON {table} "
            "DEFERRABLE INITIALLY DEFERRED "
            "FOR EACH ROW EXECUTE FUNCTION billing_check_balanced();"
        )
    return statements


def reverse_sql() -> list[str]:
    statements = [
        f"DROP TRIGGER IF EXISTS {table}_balanced ON {table};"
        for table in ("billing_ledgertransaction", "billing_ledgerentry")
    ]
    statements += [
        f"DROP TRIGGER IF EXISTS {table}_immutable ON {table};" for table in IMMUTABLE_TABLES
    ]
    statements += [
        "DROP FUNCTION IF EXISTS billing_check_balanced();",
        "DROP FUNCTION IF EXISTS billing_refuse_change();",
    ]
    return statements


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]

    operations = [migrations.RunSQL(sql=forward_sql(), reverse_sql=reverse_sql())]
