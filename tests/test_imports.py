"""The modules of fastmf import one another without a cycle at import time."""
import ast
from pathlib import Path

import fastmf

ROOT = Path(fastmf.__file__).parent


def _modules(root, package):
    """{dotted name: path of its source, or None for a compiled one} of every module."""
    found = {}
    for path in sorted(root.rglob("*")):
        if path.suffix not in (".py", ".so", ".pyd"):
            continue
        parts = (package,) + path.relative_to(root).parts[:-1] + (path.name.split(".")[0],)
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path if path.suffix == ".py" else found.get(name)
    return found


def _module_level_imports(tree):
    """The Import and ImportFrom nodes run when the module is imported: everywhere but
    inside function bodies and ``if TYPE_CHECKING:`` blocks (class bodies, other if blocks
    and try blocks run at import time)."""
    stack = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)           # only type checkers read the body
            continue
        stack.extend(ast.iter_child_nodes(node))


def _is_type_checking(test):
    """Whether an if test is ``TYPE_CHECKING`` or ``typing.TYPE_CHECKING``."""
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING"
            or isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imported(node, name, is_package):
    """The dotted names (modules, or names inside modules) an import in ``name`` asks for."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level:
        package = name if is_package else name.rpartition(".")[0]
        base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
        source = f"{base}.{node.module}" if node.module else base
    else:
        source = node.module
    return [f"{source}.{alias.name}" for alias in node.names]


def _targets(imported, importer, modules):
    """The fastmf modules that importing ``imported`` runs or reads: the packages above
    it, except those above ``importer`` (already being imported), and the module itself;
    for a name that is no module, the module that defines it, whichever it is."""
    module = imported
    while module not in modules and "." in module:
        module = module.rpartition(".")[0]
    if module not in modules:
        return set()
    parts = module.split(".")
    chain = {".".join(parts[:i]) for i in range(1, len(parts) + 1)}
    ancestors = {".".join(importer.split(".")[:i]) for i in range(1, importer.count(".") + 2)}
    return chain - ancestors | ({module} if module != imported else set())


def import_graph(root=ROOT, package="fastmf"):
    """{module: the modules of the package its module-level imports run}."""
    modules = _modules(root, package)
    graph = {}
    for name, path in modules.items():
        edges = set()
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path)) if path else ast.Module([])
        for node in _module_level_imports(tree):
            for imported in _imported(node, name, path.name == "__init__.py"):
                edges |= _targets(imported, name, modules)
        graph[name] = sorted(edges - {name})
    return graph


def find_cycles(graph):
    """One cycle, as a list of modules, for every group of modules that import one
    another in a circle (a strongly connected component of more than one module)."""
    index, low, on_stack, stack, cycles = {}, {}, set(), [], []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in graph.get(node, ()):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component, top = set(), None
            while top != node:
                top = stack.pop()
                on_stack.discard(top)
                component.add(top)
            if len(component) > 1:
                cycles.append(_cycle_through(min(component), component, graph))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


def _cycle_through(start, component, graph):
    """A shortest path start -> ... -> start inside the component."""
    paths, seen = [[start]], {start}
    while paths:
        path = paths.pop(0)
        for other in graph[path[-1]]:
            if other == start:
                return path + [start]
            if other in component and other not in seen:
                seen.add(other)
                paths.append(path + [other])
    raise AssertionError("a strongly connected component has a cycle")


def test_cycle_finder_names_a_cycle():
    graph = {"a": ["b"], "b": ["c"], "c": ["a", "d"], "d": []}
    assert find_cycles(graph) == [["a", "b", "c", "a"]]
    assert find_cycles({"a": ["b"], "b": []}) == []


def test_the_graph_follows_module_level_imports_only(tmp_path):
    files = {"__init__.py": "from .models import Model\n",
             "io.py": "from . import _util\n\ndef load():\n    from .models import Model\n",
             "_util.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                         "    from .cli import Model\nelse:\n    from . import _leaf\n",
             "_leaf.py": "", "models/__init__.py": "from ._base import Model\n",
             "models/_base.py": "from .. import io\nfrom ..io import load\nclass Model: pass\n",
             "cli.py": "from . import Model\n"}
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(text)
    graph = import_graph(tmp_path, "pkg")
    assert graph == {"pkg": ["pkg.models"], "pkg._leaf": [], "pkg._util": ["pkg._leaf"],
                     "pkg.cli": ["pkg"], "pkg.io": ["pkg._util"],
                     "pkg.models": ["pkg.models._base"], "pkg.models._base": ["pkg.io"]}
    assert find_cycles(graph) == []
    (tmp_path / "io.py").write_text("from .models import Model\n")
    cycle = ["pkg.io", "pkg.models", "pkg.models._base", "pkg.io"]
    assert find_cycles(import_graph(tmp_path, "pkg")) == [cycle]


def test_no_import_cycle_at_module_level():
    cycles = find_cycles(import_graph())
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def _pyproject_extras():
    text = (Path(__file__).parents[1] / "pyproject.toml").read_text()
    block = text.split("[project.optional-dependencies]", 1)[1].split("\n[", 1)[0]
    return {line.split("=", 1)[0].strip() for line in block.splitlines()
            if "=" in line and not line.startswith(" ")}


def test_every_install_hint_names_an_extra_of_the_distribution():
    from fastmf import _optional
    extras = _pyproject_extras()
    for module, (_, extra) in _optional._PACKAGES.items():
        assert extra in extras, (module, extra)
        assert f'pip install "fastmf-recsys[{extra}]"' in _optional.install_hint(module)
    for path in ROOT.rglob("*.py"):             # no hint names the other PyPI project
        assert "fastmf[" not in path.read_text(encoding="utf-8"), path


def test_a_missing_optional_module_says_what_to_install(monkeypatch):
    import sys

    import pytest
    data = fastmf.Interactions.from_arrays([1, 2], [3, 4])
    monkeypatch.setitem(sys.modules, "pandas", None)            # import fails
    with pytest.raises(ImportError, match=r'^to_dataframe\(\) needs pandas, which is not '
                                          r'installed; install it with pip install '
                                          r'"fastmf-recsys\[pandas\]"'):
        data.to_dataframe()
