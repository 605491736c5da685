"""The modules of fastmf import one another without a cycle and only down the layers of
docs/architecture.md, counting the imports inside functions too (those under
``if TYPE_CHECKING:``, which type checkers alone read, aside); only the kernels' glue
(``fastmf._kernels``) and ``_config`` import ``_core``."""
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


def _run_imports(tree):
    """The Import and ImportFrom nodes that can run: everywhere, inside functions too, but
    in the body of an ``if TYPE_CHECKING:`` block (only type checkers read it)."""
    stack = list(tree.body)
    while stack:
        node = stack.pop()
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
    """{module: the modules of the package its imports run, at import time or later}."""
    modules = _modules(root, package)
    graph = {}
    for name, path in modules.items():
        edges = set()
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path)) if path else ast.Module([])
        for node in _run_imports(tree):
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


def test_the_graph_follows_every_import_but_those_for_type_checkers(tmp_path):
    files = {"__init__.py": "from .models import Model\n",
             "io.py": "from . import _util\n\ndef load():\n    from .models import Model\n",
             "_util.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                         "    from .cli import Model\nelse:\n    from . import _leaf\n",
             "_leaf.py": "", "models/__init__.py": "from ._base import Model\n",
             "models/_base.py": "class Model:\n    def save(self):\n        from .. import _leaf\n",
             "cli.py": "from . import Model\n"}
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(text)
    graph = import_graph(tmp_path, "pkg")
    assert graph == {"pkg": ["pkg.models"], "pkg._leaf": [], "pkg._util": ["pkg._leaf"],
                     "pkg.cli": ["pkg"], "pkg.io": ["pkg._util", "pkg.models"],
                     "pkg.models": ["pkg.models._base"], "pkg.models._base": ["pkg._leaf"]}
    assert find_cycles(graph) == []
    # an import inside a function closes a circle as one at the top of the module does
    (tmp_path / "models/_base.py").write_text("class Model:\n    def save(self):\n"
                                             "        from .. import io\n")
    cycle = ["pkg.io", "pkg.models", "pkg.models._base", "pkg.io"]
    assert find_cycles(import_graph(tmp_path, "pkg")) == [cycle]


def test_no_import_cycle():
    cycles = find_cycles(import_graph())
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


# The modules that may import the compiled kernels: their glue, one module per family of
# cpp/ (each the only caller of its kernels), the build's report, and _core itself.
CALLS_THE_KERNELS = ("fastmf._kernels.", "fastmf._config", "fastmf._core")


# The layers of docs/architecture.md, bottom first: a module imports its own layer and those
# below it, never one above.
LAYERS = (
    ("fastmf._core",),                           # the compiled kernels (and their builds)
    ("fastmf._kernels",),                        # their glue, one module per family of cpp/
    ("fastmf._validation", "fastmf.exceptions", "fastmf._typing", "fastmf._files",
     "fastmf._optional", "fastmf._locking", "fastmf._version"),
    ("fastmf.data", "fastmf.features", "fastmf.datasets"),
    ("fastmf.metrics",),
    ("fastmf.models",),
    ("fastmf.io", "fastmf.model_selection", "fastmf.distributed", "fastmf.plotting"),
    ("fastmf", "fastmf.cli", "fastmf.__main__", "fastmf._config"),
)


def _layer(module):
    """The layer of a module: that of the longest name in LAYERS it is or lies under (the
    builds ``_core_portable``, ``_core_avx2``, ... are ``_core``'s)."""
    module = "fastmf._core" if module.startswith("fastmf._core") else module
    found = [(len(name), number) for number, names in enumerate(LAYERS) for name in names
             if module == name or module.startswith(name + ".")]
    assert found, f"{module} is in no layer of LAYERS"
    return max(found)[1]


def test_no_import_points_up_the_layers():
    graph = import_graph()
    upward = [f"{module} -> {other}" for module, imported in graph.items() for other in imported
              if _layer(other) > _layer(module)]
    assert upward == []


def test_only_the_kernels_glue_imports_core():
    importers = sorted(module for module, imported in import_graph().items()
                       if any(name.startswith("fastmf._core") for name in imported))
    assert importers, "no module imports fastmf._core"
    assert [m for m in importers if not m.startswith(CALLS_THE_KERNELS)] == []


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
