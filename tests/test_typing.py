"""The public API is typed for editors and type checkers: the package ships ``py.typed``,
every public function, method and property is annotated, the kernels' stub ``_core.pyi``
names what ``_core`` exports, and CI runs mypy (.ci/mypy, configured in pyproject.toml)."""
import ast
import importlib
import inspect
from pathlib import Path

import fastmf
from fastmf import _core

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = Path(fastmf.__file__).parent
# The modules whose public names make the API (their __all__, or their public names).
MODULES = ("fastmf", "fastmf.data", "fastmf.features", "fastmf.io", "fastmf.exceptions",
           "fastmf.metrics", "fastmf.model_selection", "fastmf.datasets", "fastmf.plotting",
           "fastmf.cli")


def public_callables():
    """{qualified name where it is defined: function} of every public function of MODULES
    and every public method (``__init__`` included) and property getter of their public
    classes, inherited ones included."""
    found = {}
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        names = getattr(module, "__all__", [n for n in vars(module) if not n.startswith("_")])
        for name in names:
            obj = getattr(module, name)
            if inspect.isfunction(obj) and obj.__module__.startswith("fastmf"):
                found[_qualified(obj)] = obj
            elif inspect.isclass(obj) and obj.__module__.startswith("fastmf"):
                for member_name, member in inspect.getmembers(obj):
                    if member_name.startswith("_") and member_name != "__init__":
                        continue
                    function = member.fget if isinstance(member, property) else member
                    if (inspect.isfunction(function) or inspect.ismethod(function)) and \
                            getattr(function, "__module__", "").startswith("fastmf"):
                        found[_qualified(function)] = function
    return found


def _qualified(function):
    return f"{function.__module__}.{function.__qualname__}"


def missing_annotations(function):
    """The parameters of ``function`` without an annotation, and "return" when its return
    has none (``self`` and ``cls`` need none)."""
    signature = inspect.signature(function)
    missing = [name for name, parameter in signature.parameters.items()
               if parameter.annotation is inspect.Parameter.empty
               and name not in ("self", "cls")]
    if signature.return_annotation is inspect.Signature.empty:
        missing.append("return")
    return missing


def test_the_package_ships_py_typed():
    assert (PACKAGE / "py.typed").is_file()


def test_every_public_function_method_and_property_is_annotated():
    api = public_callables()
    assert {"fastmf.models.als.ALS.__init__", "fastmf.models._serving.ServingMixin.recommend",
            "fastmf.io.load", "fastmf.cli.main", "fastmf.data.interactions.Interactions.nnz",
            "fastmf.metrics.ndcg_at_k", "fastmf.model_selection._tune.tune"} <= set(api)
    unannotated = {name: missing for name, function in api.items()
                   if (missing := missing_annotations(function))}
    assert unannotated == {}


def test_the_kernel_stub_names_what_core_exports():
    tree = ast.parse((PACKAGE / "_core.pyi").read_text(encoding="utf-8"))
    stubbed = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    stubbed |= {node.target.id for node in tree.body if isinstance(node, ast.AnnAssign)}
    assert {name for name in stubbed if not name.startswith("_")} == set(_core.__all__)


def test_ci_runs_mypy_with_the_configuration_of_pyproject():
    run = (ROOT / ".ci" / "run").read_text().splitlines()
    assert any(line.strip().startswith(".ci/mypy") for line in run)
    assert "python -m mypy" in (ROOT / ".ci" / "mypy").read_text()
    assert "[tool.mypy]" in (ROOT / "pyproject.toml").read_text()
