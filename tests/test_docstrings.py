"""The examples in the docstrings run and print what they show."""
import doctest
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
