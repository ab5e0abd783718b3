"""Platform-level Celery tasks."""

from __future__ import annotations

from celery import current_app, shared_task
from django_tenants.utils import tenant_context

from apps.tenants.selectors import tenant_list


@shared_task(name="core.fan_out")
def fan_out(task_name: str, *args, **kwargs) -> int:
    """Queue ``task_name`` once in every customer tenant (run from beat, in public).

    The task is sent inside each tenant's context, so tenant-schemas-celery tags it with
    that tenant's schema and the worker runs it there.
    """
    count = 0
    for tenant in tenant_list():
        with tenant_context(tenant):
            current_app.send_task(task_name, args=args, kwargs=kwargs)
        count += 1
    return count
