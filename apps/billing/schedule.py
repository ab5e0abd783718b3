"""Per-tenant periodic billing work, fanned out to every tenant by ``core.fan_out``.

Every hour, a safety net prices finished sessions that have no cost yet (a lost task, a
session closed by the platform that has settled).

Tenants live in many time zones: the tasks run every hour of the 1st and 2nd (UTC) and each
builds the last month that has ended on *its tenant's* clock.  They are idempotent, so every
run after the first finds the month done and returns.
"""

from celery.schedules import crontab

BEAT_SCHEDULE = {
    # OCPP 2.0.1 CostUpdated while sessions run (each tenant's own interval decides which).
    "send-cost-updates": {
        "task": "core.fan_out",
        "schedule": 60.0,
        "args": ["billing.send_cost_updates"],
    },
    "bill-unbilled-sessions": {
        "task": "core.fan_out",
        "schedule": crontab(minute=5),
        "args": ["billing.bill_unbilled_sessions"],
    },
    "monthly-payouts": {
        "task": "core.fan_out",
        "schedule": crontab(minute=15, hour="*", day_of_month="1,2"),
        "args": ["billing.run_monthly_payout"],
    },
    "monthly-driver-invoices": {
        "task": "core.fan_out",
        "schedule": crontab(minute=45, hour="*", day_of_month="1,2"),
        "args": ["billing.issue_driver_invoices"],
    },
}
