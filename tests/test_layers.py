"""The layering contract, checked on the source: who may import what.

cli > api > run > plan > compile > (expr, templates, schema, recipe, nodes) > load > errors.
Only the provider layer talks to providers; litellm and xllamacpp each have one home.
"""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parent.parent / "synthdsl"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
            out |= {f"{node.module}.{a.name}" for a in node.names}
    return out


def _modules() -> dict[str, set[str]]:
    return {str(p.relative_to(PKG.parent)): _imports(p) for p in sorted(PKG.rglob("*.py"))}


def _importers(prefix: str) -> set[str]:
    return {
        mod
        for mod, names in _modules().items()
        if any(n == prefix or n.startswith(prefix + ".") for n in names)
    }


def test_litellm_has_one_home() -> None:
    assert _importers("litellm") == {"synthdsl/llm/litellm_backend.py"}


def test_xllamacpp_has_one_home() -> None:
    assert _importers("xllamacpp") == {"synthdsl/llm/local_model.py"}


def test_aiohttp_only_in_the_http_backend_and_test_server() -> None:
    allowed = {"synthdsl/llm/http_backend.py", "synthdsl/testing/fake_openai/app.py"}
    assert _importers("aiohttp") <= allowed


def test_provider_layer_used_from_the_runtime_only() -> None:
    users = set()
    for mod, names in _modules().items():
        if mod.startswith("synthdsl/llm/"):
            continue
        # plain data (types), the offline price table and the lookup of local model files
        # (xllamacpp is imported only when a server starts) are shared; the rest is not
        heavy = {
            n
            for n in names
            if n.startswith("synthdsl.llm")
            and not n.startswith(
                ("synthdsl.llm.types", "synthdsl.llm.pricing", "synthdsl.llm.local_model")
            )
        }
        if heavy:
            users.add(mod)
    assert users <= {"synthdsl/run/session.py", "synthdsl/run/context.py"}


def test_front_end_does_not_depend_on_the_runtime() -> None:
    front = [
        "lang/load.py",
        "errors.py",
        "lang/decls.py",
        "lang/params.py",
        "ir.py",
        "compile/__init__.py",
        "plan.py",
        "lang/templates.py",
    ]
    for name in front:
        names = _modules()[f"synthdsl/{name}"]
        assert not any(
            n.startswith(("synthdsl.run", "synthdsl.api", "synthdsl.cli")) for n in names
        ), name


def test_errors_is_the_bottom_layer() -> None:
    names = _modules()["synthdsl/errors.py"]
    assert not any(n.startswith("synthdsl.") for n in names)
