"""The packages' layers, written down once, and the imports between their modules.

A module imports only modules of its own layer or of layers below it, at module level and
inside functions alike (imports under ``if TYPE_CHECKING:`` are for the type checker and do
not count), and the imports among all modules form no cycle. No module imports another's
private names, nor uses another's private attributes where the AST tells whose they are (on
an imported module, class or function, or an object obviously of an imported class). The
diagnostics are a floor of their own: they use the adapter only through the names its package
exports, and no module outside them imports them.
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


def _unwrapped(annotation: Optional[ast.expr]) -> Optional[ast.expr]:
    """``X`` from ``X``, ``Optional[X]``, ``X[...]``, ``"X"``; None when it says nothing."""
    while annotation is not None:
        if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
            try:
                annotation = ast.parse(annotation.value, mode="eval").body
            except SyntaxError:
                return None
        elif isinstance(annotation, ast.Subscript):
            value = annotation.value
            wrapper = value.attr if isinstance(value, ast.Attribute) else getattr(value, "id", "")
            wraps = wrapper in ("Optional", "Final", "ClassVar")
            annotation = annotation.slice if wraps else value
        else:
            return annotation
    return None


def _is_self(node: ast.expr) -> bool:
    return isinstance(node, ast.Name) and node.id in ("self", "cls")


class _PrivateReach(ast.NodeVisitor):
    """``x._name`` where ``x`` is, as far as the AST tells, another module's: a name imported
    from the packages (a module, class or function), or an object of a class imported so (made
    by calling it, annotated as it, cast to it, or returned by a function of this module whose
    return annotation is it). ``self._x`` and an object of this module's own classes are fine."""

    def __init__(self, module: str, tree: ast.Module) -> None:
        self.module = module
        self.imported: set[str] = set()  # names bound to another module's module/class/function
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] in PACKAGES and alias.name != module:
                        self.imported.add(alias.asname or alias.name.split(".")[0])
            elif (
                isinstance(node, ast.ImportFrom)
                and node.module
                and node.level == 0
                and node.module.split(".")[0] in PACKAGES
                and node.module != module
            ):
                self.imported |= {alias.asname or alias.name for alias in node.names}
        self.returns: dict[str, Optional[ast.expr]] = {
            node.name: node.returns
            for node in tree.body
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        }
        self.scopes: list[dict[str, str]] = [{}]  # name -> the imported class it is of
        self.classes: list[dict[str, str]] = []  # per class being read: self.attribute -> class
        self.found: list[str] = []

    def _imported_class(self, annotation: Optional[ast.expr]) -> Optional[str]:
        inner = _unwrapped(annotation)
        if isinstance(inner, ast.Name) and inner.id in self.imported:
            return inner.id
        if (
            isinstance(inner, ast.Attribute)
            and isinstance(inner.value, ast.Name)
            and inner.value.id in self.imported
        ):
            return f"{inner.value.id}.{inner.attr}"
        return None

    def _of(self, node: ast.expr) -> Optional[str]:
        """The imported class (or module) ``node`` is obviously of, if any."""
        if isinstance(node, ast.Name):
            if node.id in self.imported:
                return node.id
            for scope in reversed(self.scopes):
                if node.id in scope:
                    return scope[node.id]
            return None
        if isinstance(node, ast.Attribute) and _is_self(node.value) and self.classes:
            return self.classes[-1].get(node.attr)
        if isinstance(node, ast.IfExp):
            return self._of(node.body) or self._of(node.orelse)
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id == "cast" and node.args:
                return self._imported_class(node.args[0])
            if isinstance(func, ast.Name) and func.id in self.returns:
                return self._imported_class(self.returns[func.id])
            return self._imported_class(func)
        return None

    def _bind(self, target: ast.expr, kind: Optional[str]) -> None:
        if isinstance(target, ast.Attribute) and _is_self(target.value) and self.classes:
            if kind is not None:
                self.classes[-1][target.attr] = kind
        elif isinstance(target, ast.Name):
            if len(self.scopes) == 1 and self.classes and kind is not None:
                self.classes[-1][target.id] = kind  # a class body's ``name: Class``
            if kind is None:
                self.scopes[-1].pop(target.id, None)
            else:
                self.scopes[-1][target.id] = kind

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._function(node)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self._function(node)

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for decorator in node.decorator_list:
            self.visit(decorator)
        scope: dict[str, str] = {}
        arguments = node.args
        for argument in [
            *arguments.posonlyargs,
            *arguments.args,
            *arguments.kwonlyargs,
        ]:
            kind = self._imported_class(argument.annotation)
            if kind is not None:
                scope[argument.arg] = kind
        self.scopes.append(scope)
        for child in node.body:
            self.visit(child)
        self.scopes.pop()

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.classes.append({})
        saved, self.scopes = self.scopes, [{}]
        self.generic_visit(node)
        self.scopes = saved
        self.classes.pop()

    def visit_Assign(self, node: ast.Assign) -> None:
        self.visit(node.value)
        for target in node.targets:
            self.visit(target)
            self._bind(target, self._of(node.value))

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.visit(node.value)
        self.visit(node.target)
        self._bind(node.target, self._imported_class(node.annotation))

    def visit_Attribute(self, node: ast.Attribute) -> None:
        name = node.attr
        if name.startswith("_") and not name.endswith("__"):
            owner = self._of(node.value)
            if owner is not None:
                self.found.append(f"{self.module}:{node.lineno}: {owner} ... .{name}")
        self.generic_visit(node)


def _private_reaches(module: str, source: str) -> list[str]:
    tree = ast.parse(source)
    visitor = _PrivateReach(module, tree)
    visitor.visit(tree)
    return visitor.found


def test_no_module_uses_another_modules_private_attributes() -> None:
    found = []
    for module, path in MODULES.items():
        found += _private_reaches(module, path.read_text(encoding="utf-8"))
    assert found == []


def test_the_private_attribute_check_finds_each_kind_of_reach() -> None:
    """Each way the AST tells an object is another module's, and what stays allowed."""
    source = """
from azure_core_tracing import factory
from azure_core_tracing.factory import TracingContextFactory, make
from azure_core_tracing.paging import ItemPaged

def _maker() -> Optional[TracingContextFactory]: ...

class Own:
    helper: TracingContextFactory

    def __init__(self, given: TracingContextFactory) -> None:
        self._mine = 1
        self.kept = given

    def run(self, pager: "ItemPaged[int]", other: Own) -> None:
        factory._defer()                        # 1 an imported module
        TracingContextFactory._tracer           # 2 an imported class
        make._cache                             # 3 an imported function
        pager._fetch = None                     # 4 a parameter annotated as one
        made = TracingContextFactory(); made._place()  # 5 made by calling it
        maybe = _maker() if self else None; maybe._provider()  # 6 returned by this module's
        cast(ItemPaged[int], pager)._items      # 7 cast to it
        self.kept._place()                      # 8 an attribute set from a parameter
        self.helper._place()                    # 9 a class body's annotation
        typed: TracingContextFactory = make(); typed._x  # 10 annotated
        self._mine; other._mine; factory.__doc__; made.public  # allowed
"""
    found = _private_reaches("example", source)
    assert [line.partition(": ")[2] for line in found] == [
        "factory ... ._defer",
        "TracingContextFactory ... ._tracer",
        "make ... ._cache",
        "ItemPaged ... ._fetch",
        "TracingContextFactory ... ._place",
        "TracingContextFactory ... ._provider",
        "ItemPaged ... ._items",
        "TracingContextFactory ... ._place",
        "TracingContextFactory ... ._place",
        "TracingContextFactory ... ._x",
    ]
