"""Sphinx configuration of fastmf's documentation site.

Build it from the repository root with the docs extra installed (fastmf itself must be
importable: installed, or its ``python`` folder on ``PYTHONPATH``)::

    pip install ".[docs]"
    sphinx-build -W --keep-going -n -b html docs docs/_build/html

The build reads nothing from the network: no intersphinx inventories are fetched, and the
examples gallery reads MovieLens 100K from ``FASTMF_DATA`` (``../shared/datasets`` beside a
checkout when it is there). ``.ci/docs`` runs the same build.
"""
import os
import re
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
_shared = ROOT.parent / "shared" / "datasets"
if "FASTMF_DATA" not in os.environ and (_shared / "ml-100k").is_dir():
    os.environ["FASTMF_DATA"] = str(_shared)

import fastmf  # noqa: E402

# ``fastmf.plot`` is the public name of ``fastmf.plotting``; autodoc imports by module name.
sys.modules.setdefault("fastmf.plot", fastmf.plot)

project = "fastmf"
author = "the fastmf developers"
copyright = "the fastmf developers"
version = release = fastmf.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_parser",
    "sphinx_design",
    "sphinx_gallery.gen_gallery",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = ["_build", "examples"]      # the gallery reads examples/ itself
nitpicky = True
# Names from other projects: no inventory is fetched at build time, so they stay plain.
nitpick_ignore_regex = [
    (r"py:.*", r"(numpy|np|scipy|pandas|pd|dask|distributed|matplotlib|faiss|pyarrow)\..*"),
    (r"py:.*", r"(numpy|scipy|pandas|dask|matplotlib|faiss|pyarrow|tqdm)"),
    (r"py:class", r"(Exception|ValueError|RuntimeError|AttributeError|FileNotFoundError"
                  r"|UserWarning)"),
]

# -- API reference -------------------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = False
autodoc_typehints = "none"
toc_object_entries_show_parents = "hide"     # "fit()", not "ALS.fit()", in the page menu
autodoc_default_options = {"member-order": "groupwise"}
numpydoc_show_class_members = False      # the class template lists them
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_validation_checks = set()

# -- Markdown pages ----------------------------------------------------------------------
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

# -- Examples gallery -----------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
    "image_scrapers": ("matplotlib",),
    "reset_modules": ("matplotlib",),
    "show_memory": False,
    "min_reported_time": 1,
    "doc_module": (),
    "backreferences_dir": None,
    "plot_gallery": "True",
}

# -- HTML ----------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"fastmf {release}"
html_static_path = ["_static"]
html_css_files = ["fastmf.css"]
html_show_sourcelink = False
html_theme_options = {
    "logo": {"text": "fastmf"},
    "navbar_align": "left",
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_sidebars = {"index": [], "getting_started": [], "changelog": [], "contributing": []}


# -- References ----------------------------------------------------------------------------
# A docstring names its neighbours briefly (:func:`tune` in fastmf.model_selection,
# :meth:`recommend` in a model's page) while the reference documents them under their
# public names (fastmf.tune, fastmf.ALS.recommend). Such a short name resolves to the one
# documented fastmf object it ends with; fastmf.ALS's method where several models share it.
def _resolve_short_name(app, env, node, contnode):
    if node.get("refdomain") != "py":
        return None
    target = node["reftarget"].lstrip(".~")
    domain = env.get_domain("py")
    suffix = "." + target
    found = sorted((name for name in domain.objects if name.startswith("fastmf.")
                    and name.endswith(suffix)), key=lambda name: (name.count("."), name))
    if not found:
        return None
    preferred = [name for name in found if name.startswith("fastmf.ALS.")] or found
    name = preferred[0]
    return domain.resolve_xref(env, node["refdoc"], app.builder, "obj", name,
                               node.copy(), contnode)


# reStructuredText turns a bare "NDCG@10" in a docstring into an e-mail link; metric names
# with a cut-off stay text.
def _unlink_metric_names(app, doctree):
    from docutils import nodes

    for ref in list(doctree.findall(nodes.reference)):
        if ref.get("refuri", "").startswith("mailto:") and re.fullmatch(r"\w+@\d+", ref.astext()):
            ref.replace_self(nodes.Text(ref.astext()))


def setup(app):
    app.connect("missing-reference", _resolve_short_name)
    app.connect("doctree-read", _unlink_metric_names)
