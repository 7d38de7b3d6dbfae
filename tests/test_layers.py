"""The layering contract, checked on the source.

The layers themselves are import-linter contracts in pyproject.toml (``lint-imports``);
the first test runs them. The others check what import-linter does not: each heavy
third-party package has one home, no synthdsl module is part of an import cycle, and
an import inside a function says why it is there (start-up stays lazy).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
PKG = ROOT / "synthdsl"


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


def test_import_contracts_hold() -> None:
    lint = Path(sys.executable).parent / "lint-imports"
    proc = subprocess.run(
        [str(lint), "--config", str(ROOT / "pyproject.toml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "0 broken" in proc.stdout


def test_litellm_has_one_home() -> None:
    assert _importers("litellm") == {"synthdsl/llm/litellm_backend.py"}


def test_xllamacpp_has_one_home() -> None:
    assert _importers("xllamacpp") == {"synthdsl/llm/local_model.py"}


def test_aiohttp_only_in_the_http_backend_and_test_server() -> None:
    allowed = {"synthdsl/llm/http_backend.py", "synthdsl/testing/fake_openai/app.py"}
    assert _importers("aiohttp") <= allowed


def test_no_import_cycles() -> None:
    """No synthdsl module imports, directly or not, one that imports it back."""
    graph = grimp.build_graph("synthdsl")
    edges = {m: graph.find_modules_directly_imported_by(m) for m in graph.modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(m: str) -> None:  # Tarjan's strongly connected components
        index[m] = low[m] = len(index)
        stack.append(m)
        on_stack.add(m)
        for n in edges.get(m, ()):
            if n not in index:
                visit(n)
                low[m] = min(low[m], low[n])
            elif n in on_stack:
                low[m] = min(low[m], index[n])
        if low[m] == index[m]:
            component = []
            while True:
                n = stack.pop()
                on_stack.discard(n)
                component.append(n)
                if n == m:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for m in sorted(edges):
        if m not in index:
            visit(m)
    assert cycles == []


def test_imports_inside_functions_say_why() -> None:
    """A synthdsl import inside a function keeps start-up lazy, and says so."""
    unexplained: list[str] = []
    for path in sorted(PKG.rglob("*.py")):
        lines = path.read_text(encoding="utf-8").splitlines()
        tree = ast.parse("\n".join(lines))
        for fn in ast.walk(tree):
            if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(fn):
                if not isinstance(node, ast.ImportFrom) or not (node.module or "").startswith(
                    "synthdsl"
                ):
                    continue
                line = lines[node.lineno - 1]
                i = node.lineno - 2  # the line above, past a block of imports
                while i >= 0 and (
                    not lines[i].strip() or lines[i].strip().startswith(("from ", "import "))
                ):
                    i -= 1
                above = lines[i].strip() if i >= 0 else ""
                if "#" not in line and not above.startswith("#"):
                    unexplained.append(f"{path.relative_to(ROOT)}:{node.lineno}: {line.strip()}")
    assert unexplained == []


def test_validate_loads_no_runtime() -> None:
    """``synthdsl validate`` imports neither the runtime nor heavy packages."""
    code = (
        "import sys\n"
        "from synthdsl.cli import main\n"
        "code = main(['validate', 'examples/quickstart.yaml'])\n"
        "heavy = ('asyncio', 'numpy', 'aiohttp', 'litellm', 'xllamacpp', 'rich', 'sqlite3')\n"
        "print(code, sorted({m.split('.')[0] for m in sys.modules} & set(heavy)),\n"
        "      sorted(m for m in sys.modules if m.startswith(('synthdsl.run.', 'synthdsl.llm.c'))))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    # the progress display only (rich loads when it starts)
    expected = "0 [] ['synthdsl.run.progress']"
    assert proc.stdout.strip().splitlines()[-1] == expected
