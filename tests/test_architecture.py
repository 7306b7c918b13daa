"""The packages' layers, written down once, and the imports between their modules.

A module imports only modules of its own layer or of layers below it, at module level and
inside functions alike (imports under ``if TYPE_CHECKING:`` are for the type checker and do
not count), and the imports among all modules form no cycle. No module imports another's
private names. The diagnostics are a floor of their own: they use the adapter only through
the names its package exports, and no module outside them imports them.
"""

from __future__ import annotations

import ast
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("azure_core_tracing", "azure_core_tracing_opentelemetry")

# Lowest first. A pattern ending in ".*" covers a package's modules, the package itself too.
LAYERS: tuple[tuple[str, ...], ...] = (
    (
        "azure_core_tracing.checks",
        "azure_core_tracing.headers",
        "azure_core_tracing.failures",
        "azure_core_tracing.allowed_names",
        "azure_core_tracing.transport_base",
        "azure_core_tracing.credentials",
        "azure_core_tracing.exceptions",
        "azure_core_tracing.paging",
    ),
    ("azure_core_tracing.propagation_headers", "azure_core_tracing.tracecontext"),
    ("azure_core_tracing.tracing",),
    ("azure_core_tracing.context",),
    ("azure_core_tracing.guard", "azure_core_tracing.call_options"),
    ("azure_core_tracing.options",),
    ("azure_core_tracing.factory",),
    ("azure_core_tracing.decorator",),
    ("azure_core_tracing",),  # the package's own names
    ("azure_core_tracing.http.*",),
    ("azure_core_tracing_opentelemetry.span", "azure_core_tracing_opentelemetry.propagator"),
    ("azure_core_tracing_opentelemetry.provider",),
    ("azure_core_tracing_opentelemetry.console",),
    ("azure_core_tracing_opentelemetry",),
    ("azure_core_tracing_opentelemetry.diagnostics.*",),
)
DIAGNOSTICS = "azure_core_tracing_opentelemetry.diagnostics"


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


MODULES = _modules()


def _layer(module: str) -> int:
    for index, patterns in enumerate(LAYERS):
        for pattern in patterns:
            package = pattern[:-2] if pattern.endswith(".*") else None
            if module == pattern or (
                package and (module == package or module.startswith(package + "."))
            ):
                return index
    raise AssertionError(f"{module} is in no layer: add it to LAYERS")


def _type_checking_only(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


class _Imports(ast.NodeVisitor):
    """The imports of one module that run (not the type checker's), as (module, names)."""

    def __init__(self) -> None:
        self.found: list[tuple[str, tuple[str, ...]]] = []

    def visit_If(self, node: ast.If) -> None:
        if _type_checking_only(node):
            for child in node.orelse:
                self.visit(child)
            return
        self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        self.found.extend((alias.name, ()) for alias in node.names)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.module is not None and node.level == 0:
            self.found.append((node.module, tuple(alias.name for alias in node.names)))


def _edges() -> dict[str, set[str]]:
    """Each module's imports of the packages' own modules (``from pkg import module`` too)."""
    edges: dict[str, set[str]] = {}
    for module, path in MODULES.items():
        visitor = _Imports()
        visitor.visit(ast.parse(path.read_text(encoding="utf-8")))
        targets: set[str] = set()
        for imported, names in visitor.found:
            if imported.split(".")[0] not in PACKAGES:
                continue
            submodules = {f"{imported}.{name}" for name in names} & MODULES.keys()
            targets |= submodules or {imported}
        edges[module] = targets - {module}
    return edges


EDGES = _edges()


def test_every_module_is_in_a_layer() -> None:
    for module in MODULES:
        _layer(module)


def test_no_module_imports_a_higher_layer() -> None:
    upward = [
        f"{module} (layer {_layer(module)}) imports {target} (layer {_layer(target)})"
        for module, targets in EDGES.items()
        for target in sorted(targets)
        if _layer(target) > _layer(module)
    ]
    assert upward == []


def _cycle() -> Optional[list[str]]:
    state: dict[str, int] = {}  # 1: on the path, 2: done
    path: list[str] = []

    def visit(module: str) -> Optional[list[str]]:
        state[module] = 1
        path.append(module)
        for target in sorted(EDGES.get(module, ())):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state:
                found = visit(target)
                if found:
                    return found
        path.pop()
        state[module] = 2
        return None

    for module in sorted(EDGES):
        if module not in state:
            found = visit(module)
            if found:
                return found
    return None


def test_the_imports_form_no_cycle() -> None:
    assert _cycle() is None


def test_no_module_imports_another_modules_private_names() -> None:
    private = []
    for module, path in MODULES.items():
        visitor = _Imports()
        visitor.visit(ast.parse(path.read_text(encoding="utf-8")))
        for imported, names in visitor.found:
            if imported.split(".")[0] in PACKAGES and imported != module:
                private += [
                    f"{module}: {imported}.{name}"
                    for name in names
                    if name.startswith("_") and not name.endswith("__")
                ]
    assert private == []


def test_the_diagnostics_use_the_adapter_only_through_its_package_and_nothing_imports_them() -> (
    None
):
    wrong = []
    for module, targets in EDGES.items():
        inside = module == DIAGNOSTICS or module.startswith(DIAGNOSTICS + ".")
        for target in targets:
            target_inside = target == DIAGNOSTICS or target.startswith(DIAGNOSTICS + ".")
            if not inside and target_inside:
                wrong.append(f"{module} imports {target}")
            adapter_module = target.startswith("azure_core_tracing_opentelemetry.")
            if inside and adapter_module and not target_inside:
                wrong.append(f"{module} imports {target}, not the package's names")
    assert wrong == []


def test_the_layers_check_finds_an_upward_import_and_a_cycle() -> None:
    """The checks above can fail: an import from a low layer to a high one, and a cycle."""
    assert _layer("azure_core_tracing.checks") < _layer("azure_core_tracing.http.pipeline")
    assert fnmatchcase("azure_core_tracing.http.retry", "azure_core_tracing.http.*")
    saved = {key: set(value) for key, value in EDGES.items()}
    try:
        EDGES["azure_core_tracing.checks"].add("azure_core_tracing.options")
        EDGES["azure_core_tracing.options"].add("azure_core_tracing.checks")
        assert _cycle() is not None
    finally:
        EDGES.clear()
        EDGES.update(saved)
    assert _cycle() is None
