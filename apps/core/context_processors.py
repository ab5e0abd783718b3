from django.db import connection


def tenant(request):
    current = getattr(connection, "tenant", None)
    is_tenant = current is not None and getattr(current, "schema_name", "public") != "public"
    return {"tenant": current if is_tenant else None}
