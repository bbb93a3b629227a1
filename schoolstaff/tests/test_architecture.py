"""The apps import one way, as docs/architecture.md draws them: each only from those below it."""

import ast
from pathlib import Path

import pytest
from django.apps import apps

ROOT = Path(__file__).resolve().parents[2]

# Each app, and the apps its code may import from (docs/architecture.md, "The apps").
MAY_IMPORT = {
    "records": set(),
    "lists": set(),
    "audit": {"records", "lists"},
    "changes": {"records", "lists", "audit"},
    "subjects": {"records", "lists", "audit", "changes"},
    "accounts": {"records", "lists", "audit", "changes", "subjects"},
    "two_factor": {"accounts", "audit"},
    "operator_commands": set(),
    "schoolstaff": {"accounts"},
}


def imported_apps(app):
    """{imported app: a module of `app` that imports it}, for the code outside its tests."""
    imported = {}
    for path in (ROOT / app).rglob("*.py"):
        if "tests" in path.relative_to(ROOT).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top in MAY_IMPORT and top != app:
                    imported.setdefault(top, str(path.relative_to(ROOT)))
    return imported


def test_every_app_of_the_project_is_in_the_map():
    ours = {config.name for config in apps.get_app_configs() if Path(config.path).parent == ROOT}
    assert ours | {"schoolstaff"} == set(MAY_IMPORT)


@pytest.mark.parametrize("app", MAY_IMPORT)
def test_each_app_imports_only_from_the_apps_below_it(app):
    imported = imported_apps(app)

    assert {
        other: module for other, module in imported.items() if other not in MAY_IMPORT[app]
    } == {}
