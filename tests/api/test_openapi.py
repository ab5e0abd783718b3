"""The OpenAPI schema validates, documents every operation's permission, and every documented
GET path answers (no 5xx) for the owner and for the delegate."""

import pytest
from drf_spectacular.validation import validate_schema
from jsonschema import Draft202012Validator

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


# --- The schema tells the truth: every answer of every operation is documented ----------------
SCHEMA_KEYS = ("allOf", "anyOf", "oneOf")
DROPPED = {"nullable", "readOnly", "writeOnly", "example", "examples", "discriminator", "xml"}


def json_schema(node):
    """An OpenAPI 3.0 schema object as JSON Schema (``nullable`` becomes a null alternative)."""
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key in DROPPED:
            continue
        if key in ("properties", "patternProperties"):
            out[key] = {name: json_schema(sub) for name, sub in value.items()}
        elif key in ("items", "additionalProperties", "not"):
            out[key] = json_schema(value)
        elif key in SCHEMA_KEYS:
            out[key] = [json_schema(sub) for sub in value]
        else:
            out[key] = value
    if node.get("nullable"):
        return {"anyOf": [out, {"type": "null"}]}
    return out


class Checker:
    """Checks a real answer against the operation's documented responses."""

    def __init__(self, schema: dict) -> None:
        self.components = {
            name: json_schema(component)
            for name, component in schema["components"]["schemas"].items()
        }
        self.seen: dict[tuple[str, str], set[int]] = {}

    def check(self, path: str, method: str, operation: dict, response) -> None:
        status = str(response.status_code)
        where = f"{method.upper()} {path} -> {status}: {response.content[:300]!r}"
        assert status in operation["responses"], f"undocumented answer: {where}"
        self.seen.setdefault((method, path), set()).add(response.status_code)
        documented = operation["responses"][status].get("content", {})
        media = response.get("Content-Type", "").split(";")[0]
        if response.status_code == 204 or not response.content:
            return
        assert documented, f"a body where none is documented: {where}"
        if media != "application/json":
            return  # files (bank files, statements, the schema itself): the status is checked
        assert "application/json" in documented, where
        body_schema = json_schema(documented["application/json"]["schema"])
        validator = Draft202012Validator(
            {**body_schema, "components": {"schemas": self.components}}
        )
        errors = sorted(validator.iter_errors(response.json()), key=lambda e: list(e.path))
        assert not errors, f"{where}\n" + "\n".join(
            f"  at {list(e.path)}: {e.message[:200]}" for e in errors[:5]
        )


def _operations(schema):
    found = [
        (path, method, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
    ]
    # Deletes last: the other operations still find their objects.
    return sorted(found, key=lambda op: op[1] == "delete")


def _target_url(path, inventory, *, missing=False):
    targets = {e.path: e.target for e in TABLE}
    template = path.replace("{id}", "{pk}")
    target = targets[template]
    if target is None:
        return path
    if missing:
        return template.replace("{pk}", "999999999")
    obj = inventory.tenant_wide[target] if target in TENANT_WIDE else inventory.a1.objects[target]
    return template.replace("{pk}", str(obj.pk))


def _call(client, method, url):
    if method == "get":
        return client.get(url)
    return getattr(client, method)(url, {}, format="json")


def test_every_answer_of_every_operation_is_documented(
    schema, inventory, personas, api_for, alpha, monkeypatch, settings
):
    """Each operation is called as nobody, as a person without the role, as the owner (with
    empty input for writes) and with an id that does not exist; every answer's status must be
    documented and its body must match the documented schema."""
    monkeypatch.setattr(
        commands,
        "station_call",
        lambda station, action, payload, **kw: {"configurationKey": [], "unknownKey": []},
    )
    checker = Checker(schema)
    anonymous, outsider = api_for(None), api_for(personas.outsider)
    owner = api_for(personas.owner)
    for path, method, operation in _operations(schema):
        url = _target_url(path, inventory)
        checker.check(path, method, operation, _call(anonymous, method, url))
        checker.check(path, method, operation, _call(outsider, method, url))
        if "{id}" in path:
            checker.check(
                path,
                method,
                operation,
                _call(owner, method, _target_url(path, inventory, missing=True)),
            )
        checker.check(path, method, operation, _call(owner, method, url))
    statuses = set().union(*checker.seen.values())
    assert {200, 204, 400, 401, 403, 404} <= statuses, statuses
    assert len(checker.seen) == sum(len(item) for item in schema["paths"].values())


@pytest.mark.parametrize(
    "error,status",
    [
        (commands.StationOffline("not connected"), 409),
        (commands.CommandTimeout("no answer"), 504),
        (commands.CommandRejected("NotSupported", "no such key"), 502),
        (commands.InvalidPayload([{"path": "key", "message": "bad"}]), 400),
    ],
)
def test_a_stations_errors_match_the_schema(
    error, status, schema, inventory, personas, api_for, monkeypatch
):
    def fail(station, action, payload, **kw):
        raise error

    monkeypatch.setattr(commands, "station_call", fail)
    path = "/api/v1/stations/{id}/configuration/"
    response = api_for(personas.owner).get(_target_url(path, inventory))
    assert response.status_code == status, response.content[:300]
    Checker(schema).check(path, "get", schema["paths"][path]["get"], response)


def test_a_throttled_answer_matches_the_schema(schema, personas, api_for, settings):
    settings.API_THROTTLE_RATES = {"address": None, "caller": "1/min"}
    client = api_for(personas.owner)
    path = "/api/v1/sites/"
    operation = schema["paths"][path]["get"]
    assert "Retry-After" in operation["responses"]["429"]["headers"]
    client.get(path)
    response = client.get(path)
    assert response.status_code == 429
    Checker(schema).check(path, "get", operation, response)


def test_every_operation_documents_the_errors_it_can_answer(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            documented = set(operation["responses"])
            assert {"401", "403", "429"} <= documented, (method, path)
            if "{id}" in path:
                assert "404" in documented, (method, path)
            if method in ("post", "put", "patch"):
                assert "400" in documented, (method, path)
            if method in ("post", "put", "patch", "delete"):
                assert "409" in documented, (method, path)
    error = schema["components"]["schemas"]["ErrorDetail"]
    assert set(error["required"]) == {"code", "message", "details"}


@pytest.mark.parametrize(
    "component,field",
    [
        ("Station", "site_name"),  # a station not placed on a site yet
        ("StatusChange", "evse_number"),  # the station's own status (connector 0)
        ("AuditEntry", "site_name"),  # tenant-wide entries
        ("RoleAssignment", "granted_by_email"),  # the tenant's first owner
    ],
)
def test_fields_that_answer_null_are_documented_nullable(schema, component, field):
    assert schema["components"]["schemas"][component]["properties"][field].get("nullable")
