"""Sphinx configuration for the docdenoise documentation.

Build (warnings are errors, as in CI)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

The build runs the ``examples/plot_*.py`` scripts (sphinx-gallery) and needs no
network: intersphinx is deliberately not configured, so no inventory is fetched.
"""

from __future__ import annotations

import os
import sys
import warnings
from datetime import date

import docdenoise

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # for sg_scrapers

# -- Project -----------------------------------------------------------------------------
project = "docdenoise"
author = "The docdenoise developers"
copyright = f"{date.today().year}, {author}"
release = docdenoise.__version__
version = ".".join(release.split(".")[:2])

# -- General -----------------------------------------------------------------------------
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "**.ipynb_checkpoints"]
default_role = "literal"
pygments_style = "sphinx"

# -- autodoc / autosummary / numpydoc ---------------------------------------------------
autosummary_generate = True  # stubs go to docs/generated/ (git-ignored)
autosummary_imported_members = True
autodoc_typehints = "none"  # types are written in the numpydoc Parameters sections
numpydoc_show_class_members = False  # methods are listed by the class template
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True

# -- MyST (for CHANGELOG.md) -------------------------------------------------------------
myst_heading_anchors = 3

# -- sphinx-gallery ----------------------------------------------------------------------
os.environ.setdefault("MPLBACKEND", "Agg")
# Examples run on the CPU, in a few seconds each, on synthetic data.
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
warnings.filterwarnings("ignore", message="Matplotlib is currently using agg")

sphinx_gallery_conf = {
    "examples_dirs": ["../examples"],
    "gallery_dirs": ["auto_examples"],
    # Execute every plot_*.py script at build time; other files are shown only.
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"__init__\.py",
    "within_subsection_order": "FileNameSortKey",
    "doc_module": ("docdenoise",),
    "backreferences_dir": "generated/backreferences",
    "reference_url": {"docdenoise": None},
    # docdenoise.plotting builds figures without pyplot; docs/sg_scrapers.py saves them.
    "image_scrapers": ("matplotlib", "sg_scrapers"),
    "remove_config_comments": True,
    "show_memory": False,
    "min_reported_time": 1,
    "download_all_examples": False,
    "plot_gallery": "True",
}

# -- HTML --------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"docdenoise {release}"
html_static_path = ["_static"]
html_css_files = ["custom.css"]
html_show_sourcelink = False
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "navbar_align": "left",
    "header_links_before_dropdown": 7,
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
    "secondary_sidebar_items": ["page-toc"],
    "use_edit_page_button": False,
}
html_context = {"default_mode": "light"}
# Pages without sub-pages get no (empty) section navigation on the left.
html_sidebars = {
    "index": [],
    "installation": [],
    "quickstart": [],
    "changelog": [],
}


# -- Hooks -------------------------------------------------------------------------------
def _skip_member(app, what, name, obj, skip, options):
    """Leave out the ``set_*_request`` methods scikit-learn generates for routing.

    They are documented by scikit-learn (metadata routing), and their generated
    docstrings refer to scikit-learn's glossary, which does not exist here.
    """
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return skip


def setup(app):
    app.connect("autodoc-skip-member", _skip_member)
