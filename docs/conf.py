"""Sphinx configuration of shendu's documentation (``make docs``: warnings are errors)."""

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "docs", "_ext")]

import shendu  # noqa: E402

project = "shendu"
author = "The shendu developers"
copyright = "the shendu developers; MIT licence"
release = version = shendu.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "myst_nb",
    "sphinxarg.ext",
    "shendu_pages",
]
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
exclude_patterns = ["_build", "**.ipynb_checkpoints"]
nb_execution_mode = "off"  # the notebooks are executed by the test suite (tests/examples/test_notebooks.py)
myst_enable_extensions = ["dollarmath"]
suppress_warnings = ["myst.header"]

autosummary_generate = True
autosummary_imported_members = False
autodoc_default_options = {"members": True, "undoc-members": False, "show-inheritance": True,
                           "ignore-module-all": True}
autodoc_member_order = "bysource"
autodoc_typehints = "description"
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_ivar = True  # Attributes: sections as fields (properties are documented by autodoc)

html_theme = "alabaster"
html_title = "shendu 深度"
html_static_path = []
