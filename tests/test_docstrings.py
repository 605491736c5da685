"""The examples in the docstrings run and print what they show."""
import doctest
import inspect
import importlib
import pkgutil

import pytest

import fastmf

# __main__ runs the command line on import; the _core modules are compiled.
MODULES = sorted(name for _, name, _ in pkgutil.walk_packages(fastmf.__path__, "fastmf.")
                 if name != "fastmf.__main__" and not name.rsplit(".", 1)[-1].startswith("_core"))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0


def _public_api():
    """(name, object) of every public name of fastmf, of its public modules, and the public
    methods and properties of their classes (exceptions' inherited methods aside)."""
    found = {}

    def add(qualified, obj):
        if inspect.isclass(obj) and obj.__module__.startswith("fastmf"):
            found[qualified] = obj
            if not issubclass(obj, BaseException):
                for name, member in inspect.getmembers(obj):
                    if not name.startswith("_") and (inspect.isfunction(member)
                                                     or isinstance(member, property)):
                        found[f"{qualified}.{name}"] = member
        elif inspect.isfunction(obj) and obj.__module__.startswith("fastmf"):
            found[qualified] = obj

    for name in fastmf.__all__:
        obj = getattr(fastmf, name)
        if inspect.ismodule(obj):
            for member_name, member in inspect.getmembers(obj):
                if not member_name.startswith("_") and getattr(member, "__module__", None) == obj.__name__:
                    add(f"{name}.{member_name}", member)
        else:
            add(name, obj)
    return found


def test_every_public_name_has_a_docstring_and_every_callable_a_runnable_example():
    api = _public_api()
    assert {"ALS", "BPR.fold_in", "metrics.ndcg_at_k", "Interactions.nnz"} <= set(api)
    undocumented = [name for name, obj in api.items() if not inspect.getdoc(obj)]
    assert undocumented == []
    # Properties are shown in their class's example; everything callable shows itself.
    without_example = [name for name, obj in api.items() if not isinstance(obj, property)
                       and ">>>" not in inspect.getdoc(obj)]
    assert without_example == []
