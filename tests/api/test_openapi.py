"""The OpenAPI schema validates, documents every operation's permission, and every documented
GET path answers (no 5xx) for the owner and for the delegate."""

import pytest
from drf_spectacular.validation import validate_schema

from apps.ocpp import commands
from tests.api.test_isolation_table import TABLE, TENANT_WIDE


@pytest.fixture
def schema(personas, api_for):
    response = api_for(personas.owner).get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def test_the_schema_is_valid_openapi(schema):
    validate_schema(schema)  # raises on any violation of the OpenAPI 3 JSON schema
    assert schema["openapi"].startswith("3.")
    schemes = schema["components"]["securitySchemes"]
    assert schemes["apiKey"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "cg_<prefix>_<secret>",
        "description": "An API key created in the portal (People → API keys).",
    }
    assert schemes["session"]["in"] == "cookie"


def test_every_operation_is_described_with_its_permission(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            assert operation.get("x-permission"), (method, path)
            assert "**Permission:**" in operation.get("description", ""), (method, path)
            assert operation.get("summary") or operation["description"].split("**")[0].strip(), (
                method,
                path,
            )


def test_swagger_ui_is_served(personas, api_for):
    response = api_for(personas.owner).get("/api/v1/docs/")
    assert response.status_code == 200 and b"swagger" in response.content.lower()


@pytest.mark.parametrize("persona", ["owner", "delegate"])
def test_every_documented_get_path_answers(
    persona, schema, inventory, personas, api_for, monkeypatch
):
    monkeypatch.setattr(
        commands,
        "station_call",
        lambda station, action, payload, **kw: {"configurationKey": [], "unknownKey": []},
    )
    targets = {e.path: e.target for e in TABLE}
    client = api_for(getattr(personas, persona))
    answered = 0
    for path, item in schema["paths"].items():
        if "get" not in item:
            continue
        template = path.replace("{id}", "{pk}")
        target = targets[template]
        if target is None:
            url = path
        else:
            obj = (
                inventory.tenant_wide[target]
                if target in TENANT_WIDE
                else inventory.a1.objects[target]
            )
            url = template.replace("{pk}", str(obj.pk))
        response = client.get(url)
        assert response.status_code < 500, (url, response.status_code)
        if persona == "owner":
            assert response.status_code == 200, (url, response.content[:200])
        answered += 1
    assert answered >= 30
