"""Arrows point one way (style guide, point 13; docs/architecture.md): the core imports no
feature app.  Every module of the core apps (migrations aside) is parsed with ``ast``; any
import of a feature app, at the top or inside a function, fails the test with where it is.

The core is listed here; ``api`` and ``audit`` are the platform the core builds on (the REST
base viewsets that apply the one scoping path, the audit log) and are held to the same rule;
every other app under ``apps/`` is a feature, including any app added later.  Features do not
import one another either: they talk through the core's registries.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

APPS_DIR = Path(__file__).resolve().parents[2] / "apps"
CORE_APPS = ("tenants", "accounts", "roles", "stations", "charging", "ocpp", "core")
PLATFORM_APPS = ("api", "audit")
# Calls that import a module named by a string.
DYNAMIC_IMPORTS = {"import_module", "import_string", "__import__"}


def all_apps() -> set[str]:
    return {path.parent.name for path in APPS_DIR.glob("*/apps.py")}


def feature_apps() -> set[str]:
    return all_apps() - set(CORE_APPS) - set(PLATFORM_APPS)


@dataclass(frozen=True)
class Violation:
    path: str
    line: int
    module: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line} imports {self.module}"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(APPS_DIR.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(source: str, module: str, *, is_package: bool) -> list[tuple[int, str]]:
    """``(line, absolute module name)`` of every import in ``source``."""
    package = module if is_package else module.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.append((node.lineno, target))
            # ``from apps import monitoring`` names the app in the imported names
            if target == "apps":
                found.extend((node.lineno, f"apps.{alias.name}") for alias in node.names)
        elif isinstance(node, ast.Call):
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name in DYNAMIC_IMPORTS and node.args:
                first = node.args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    found.append((node.lineno, first.value))
    return found


def violations_in(
    source: str, module: str, *, path: str, features: set[str], is_package: bool = False
) -> list[Violation]:
    result = []
    for line, target in imported_modules(source, module, is_package=is_package):
        parts = target.split(".")
        if len(parts) >= 2 and parts[0] == "apps" and parts[1] in features:
            result.append(Violation(path, line, target))
    return result


def app_modules(app: str) -> list[Path]:
    return sorted(
        path
        for path in (APPS_DIR / app).rglob("*.py")
        if "migrations" not in path.relative_to(APPS_DIR).parts
    )


def test_the_apps_are_where_the_rule_expects_them():
    apps = all_apps()
    assert set(CORE_APPS) <= apps and set(PLATFORM_APPS) <= apps
    assert {"dashboard", "monitoring", "webhooks", "power", "billing"} <= feature_apps()


@pytest.mark.parametrize("app", CORE_APPS + PLATFORM_APPS)
def test_core_and_platform_apps_import_no_feature_app(app):
    features = feature_apps()
    modules = app_modules(app)
    assert modules, f"no modules found in apps/{app}"
    found = []
    for path in modules:
        found += violations_in(
            path.read_text(),
            module_name(path),
            path=str(path.relative_to(APPS_DIR.parent)),
            features=features,
            is_package=path.name == "__init__.py",
        )
    assert not found, (
        "The core imports feature apps (register a panel, a policy or an event handler "
        "from the feature instead):\n" + "\n".join(map(str, found))
    )


@pytest.mark.parametrize("app", sorted(feature_apps()))
def test_features_import_no_other_feature(app):
    """Features talk through the core's events, policies, panels and ``publish_live``."""
    others = feature_apps() - {app}
    found = []
    for path in app_modules(app):
        found += violations_in(
            path.read_text(),
            module_name(path),
            path=str(path.relative_to(APPS_DIR.parent)),
            features=others,
            is_package=path.name == "__init__.py",
        )
    found = [v for v in found if (v.path, v.module.split(".")[1]) not in ALLOWED_FEATURE_IMPORTS]
    assert not found, "A feature imports another feature:\n" + "\n".join(map(str, found))


# The exceptions, each one module: an adapter that acts through another feature's services.
ALLOWED_FEATURE_IMPORTS = {
    # energy: demand response lowers site limits through power's services (issue 18)
    ("apps/energy/limits.py", "power"),
    # reports: revenue from billing's receipts and uptime from monitoring's alert history, read
    # when rolling up (a read-side aggregator; issue 16)
    ("apps/reports/services.py", "billing"),
    ("apps/reports/services.py", "monitoring"),
}


@pytest.mark.parametrize(
    "source",
    [
        "from apps.monitoring.forms import command_forms",
        "import apps.dashboard.live",
        "def view():\n    from apps.power import selectors\n",
        "from apps import billing",
        "from ...webhooks import services",  # relative, from apps/stations/api/views.py
        "import_module('apps.monitoring.services')",
        "from django.utils.module_loading import import_string\nimport_string('apps.power.x.y')",
    ],
)
def test_the_checker_catches_every_way_of_importing(source):
    found = violations_in(
        source,
        "apps.stations.api.views",
        path="apps/stations/api/views.py",
        features=feature_apps(),
    )
    assert len(found) == 1, found


@pytest.mark.parametrize(
    "source",
    [
        "from apps.charging.models import ChargingSession",
        "from ..models import Station",
        "from apps.core import panels",
        "from apps.api.viewsets import ScopedViewSet",
        "x = 'apps.monitoring'  # a string is not an import",
    ],
)
def test_the_checker_lets_core_imports_through(source):
    found = violations_in(
        source,
        "apps.stations.api.views",
        path="apps/stations/api/views.py",
        features=feature_apps(),
    )
    assert found == []
