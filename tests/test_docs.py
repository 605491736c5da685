"""The documentation stays true: its Python examples and gallery scripts run and print what
they show, the API reference lists every public name, and every benchmark figure keeps its
command. (Sphinx itself runs in .ci/docs; the commands of the command-line page run in
tests/test_cli.py.)"""
import importlib
import inspect
import re
import runpy
from pathlib import Path

import matplotlib
import pytest

import fastmf

from .conftest import SHARED_DATA

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = sorted(path for path in DOCS.rglob("*.md") if "_build" not in path.parts)
API = "\n".join(path.read_text() for path in sorted((DOCS / "api").glob("*.rst")))
GALLERY = sorted((DOCS / "examples").rglob("plot_*.py"))
QUOTED_RMSE = r"# (\w*\s?test RMSE) (\d\.\d+)"


def python_blocks(text):
    return re.findall(r"```python\n(.*?)```", text, re.S)


PAGES_WITH_CODE = [page for page in PAGES if python_blocks(page.read_text())]


@pytest.mark.parametrize("page", PAGES_WITH_CODE, ids=lambda p: str(p.relative_to(DOCS)))
def test_python_examples_run(page, monkeypatch, capsys, tmp_path):
    """Every ```python block of the page runs, each in a fresh namespace as a reader would
    paste it, and the RMSE figures its comments quote are the ones it prints."""
    monkeypatch.setenv("FASTMF_DATA", str(SHARED_DATA))
    monkeypatch.chdir(tmp_path)
    text = page.read_text()
    try:
        for block in python_blocks(text):
            exec(compile(block, str(page), "exec"), {})
    finally:
        plt.close("all")
    printed = dict(re.findall(r"^(\w*\s?test RMSE) (\d\.\d+)$", capsys.readouterr().out, re.M))
    quoted = dict(re.findall(QUOTED_RMSE, text))
    assert set(printed) >= set(quoted)
    for label, value in quoted.items():      # float32 rounding differs a little by CPU
        assert float(printed[label]) == pytest.approx(float(value), abs=3e-4), label


def test_the_getting_started_page_quotes_the_readme_figures():
    readme = dict(re.findall(QUOTED_RMSE, (ROOT / "README.md").read_text()))
    page = dict(re.findall(QUOTED_RMSE, (DOCS / "getting_started.md").read_text()))
    assert page == readme and set(page) == {"test RMSE", "SGD test RMSE"}


@pytest.mark.parametrize("script", GALLERY, ids=lambda p: p.name)
def test_gallery_scripts_run_and_draw(script, monkeypatch, tmp_path):
    monkeypatch.setenv("FASTMF_DATA", str(SHARED_DATA))
    monkeypatch.chdir(tmp_path)
    plt.close("all")
    try:
        runpy.run_path(str(script), run_name="__main__")
        assert plt.get_fignums(), f"{script.name} draws nothing"
    finally:
        plt.close("all")
    assert '"""' in script.read_text().split("\n", 1)[0]     # a title block for the gallery


# -- the API reference --------------------------------------------------------------------

def documented_names():
    """Full names listed in the autosummary tables of docs/api/*.rst, and the modules that
    have a section there (a ``currentmodule``)."""
    names, modules, module, in_table = set(), set(), None, False
    for line in API.splitlines():
        directive = re.match(r"\.\. currentmodule:: (\S+)", line)
        if directive:
            module = directive.group(1)
            modules.add(module)
            continue
        if line.startswith(".. autosummary::"):
            in_table = True
            continue
        if in_table:
            entry = line.strip()
            if line and not line.startswith(" "):
                in_table = False
            elif entry and not entry.startswith(":"):
                names.add(f"{module}.{entry}")
    return names, modules


def public_modules():
    """(module name, module, its public names): __all__ where it has one, else the
    functions and classes it defines (fastmf.datasets and fastmf.plot have no __all__)."""
    found = [("fastmf", fastmf, fastmf.__all__)]
    for name in ("metrics", "model_selection", "datasets", "plot", "cli", "distributed"):
        try:
            module = (fastmf.plot if name == "plot"
                      else importlib.import_module(f"fastmf.{name}"))
        except ImportError:                  # fastmf.distributed without Dask installed
            continue
        public = getattr(module, "__all__", None)
        if public is None:
            public = [member for member, obj in vars(module).items()
                      if not member.startswith("_") and getattr(obj, "__module__", None)
                      == module.__name__ and (inspect.isfunction(obj) or inspect.isclass(obj))]
        found.append((f"fastmf.{name}", module, public))
    return found


def test_every_public_name_has_an_api_reference_entry():
    names, modules = documented_names()
    assert {"fastmf.ALS", "fastmf.metrics.ndcg_at_k", "fastmf.plot.learning_curve"} <= names
    missing = []
    for module_name, module, public in public_modules():
        assert public, module_name
        for name in public:
            obj = getattr(module, name)
            if f"{module_name}.{name}" in names:
                continue
            if inspect.ismodule(obj) and f"fastmf.{name}" in modules:     # fastmf.metrics
                continue
            if getattr(fastmf, name, None) is obj and f"fastmf.{name}" in names:
                continue                 # fastmf.model_selection.tune is fastmf.tune
            if name == "__version__" and "__version__" in API:
                continue
            missing.append(f"{module_name}.{name}")
    assert missing == []


def test_every_api_reference_entry_names_a_real_object():
    names, _ = documented_names()
    for full in sorted(names):
        module_name, name = full.rsplit(".", 1)
        module = fastmf.plot if module_name == "fastmf.plot" else None
        if module is None:
            try:
                module = importlib.import_module(module_name)
            except ImportError:
                assert module_name == "fastmf.distributed", full
                continue
        assert hasattr(module, name), full


# -- benchmarks, pages, paperwork -----------------------------------------------------------

@pytest.mark.parametrize("page", sorted((DOCS / "benchmarks").glob("*.md")), ids=lambda p: p.name)
def test_every_benchmark_table_keeps_its_command_and_its_machine(page):
    """Each section of a benchmark page that holds a table of figures also holds the command
    that produced them; each page names the machine."""
    text = page.read_text()
    assert re.search(r"2-core|2 cores", text), page.name
    for section in re.split(r"(?m)^## ", text)[1:]:
        if re.search(r"^\| ?-+", section, re.M):
            assert re.search(r"python -m bench\.|pytest bench|bench/ratios\.py", section), \
                section.splitlines()[0]


def test_install_hints_name_the_distribution():
    """`fastmf` on PyPI is another project: every install hint names fastmf-recsys."""
    for path in [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *PAGES, *GALLERY]:
        for hint in re.findall(r"pip install ([^\n`#;&|]*)", path.read_text()):
            assert not re.search(r"(^|[\s\"'])fastmf(\[|\s|$|\")", hint), (path.name, hint)


def test_the_version_has_one_source_and_the_changelog_starts_with_it():
    pyproject = (ROOT / "pyproject.toml").read_text()
    declared = re.search(r'(?m)^version = "([^"]+)"', pyproject).group(1)
    assert fastmf.__version__ == declared
    changelog = (ROOT / "CHANGELOG.md").read_text()
    first = re.search(r"(?m)^## \[([^\]]+)\]", changelog).group(1)
    assert first == declared
    assert re.search(r"(?m)^license = \{ text = \"BSD-3-Clause\" \}", pyproject)
    assert "BSD 3-Clause License" in (ROOT / "LICENSE").read_text()


def test_ci_builds_the_docs_with_warnings_as_errors():
    script = (ROOT / ".ci" / "docs").read_text()
    assert re.search(r"sphinx-build .*-W .*--keep-going .*-n", script)
    assert ".[docs]" in script
    assert any(line.strip().startswith(".ci/docs") for line in
               (ROOT / ".ci" / "run").read_text().splitlines())
