"""fastmf's version, kept in one place: ``version`` in pyproject.toml.

An installed fastmf (a wheel, an sdist or an editable install) reads it from its
distribution's metadata, which the build wrote from pyproject.toml. A source checkout whose
``python`` folder is on ``PYTHONPATH`` reads pyproject.toml itself, so that it never reports
the version of another fastmf installed beside it.
"""
from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

DISTRIBUTION = "fastmf-recsys"


def _from_source_tree() -> str | None:
    """The version in the pyproject.toml of the checkout this package sits in, if any."""
    try:
        text = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text(encoding="utf-8")
    except OSError:
        return None
    project = re.search(r"(?ms)^\[project\][ \t]*$(.*?)(?=^\[|\Z)", text)
    if project is None or not re.search(rf'(?m)^name\s*=\s*"{DISTRIBUTION}"', project.group(1)):
        return None
    version = re.search(r'(?m)^version\s*=\s*"([^"]+)"', project.group(1))
    return version.group(1) if version else None


def _installed() -> str:
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:     # a copy of the package that pip never saw
        return "0+unknown"


__version__ = _from_source_tree() or _installed()
