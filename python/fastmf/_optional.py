"""The optional dependencies: each imported where it is used, or an ImportError that says
which extra of the distribution ``fastmf-recsys`` installs it."""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from types import ModuleType

DISTRIBUTION = "fastmf-recsys"

# module -> (the package pip installs, the extra of fastmf-recsys that brings it)
_PACKAGES = {
    "pandas": ("pandas", "pandas"),
    "matplotlib": ("matplotlib", "plot"),
    "faiss": ("faiss-cpu", "ann"),
    "distributed": ("dask.distributed", "dask"),
    "dask": ("dask", "dask"),
    "pyarrow": ("pyarrow", "dask"),
}


def install_hint(module: str) -> str:
    """``pip install "fastmf-recsys[extra]"`` for the optional module ``module``."""
    package, extra = _PACKAGES[module.split(".")[0]]
    return f'pip install "{DISTRIBUTION}[{extra}]" (or pip install {package.split(".")[0]})'


def require(module: str, needed_for: str) -> ModuleType:
    """The module ``module``, imported; ImportError naming ``needed_for`` (what needs it)
    and how to install it when it is missing."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        package = _PACKAGES[module.split(".")[0]][0]
        raise ImportError(f"{needed_for} needs {package}, which is not installed; install it "
                          f"with {install_hint(module)}") from error
