"""A sphinx-gallery image scraper for figures made without pyplot.

:mod:`docdenoise.plotting` returns :class:`matplotlib.figure.Figure` objects that
are never registered with pyplot, so sphinx-gallery's own matplotlib scraper (which
walks ``plt.get_fignums()``) does not see them. This scraper saves every such figure
that a code block leaves in the example's global variables, once, in order of
creation. Named in ``sphinx_gallery_conf["image_scrapers"]`` as ``"sg_scrapers"``:
sphinx-gallery imports the module and calls :func:`_get_sg_image_scraper`.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

# Figures already saved, per example file (kept alive so their ids are not reused).
_seen: dict[str, list[Any]] = {}


def _figures(namespace: dict[str, Any]) -> list[Any]:
    from matplotlib.figure import Figure

    found = []
    for value in list(namespace.values()):
        candidates = value if isinstance(value, (list, tuple)) else [value]
        for item in candidates:
            if isinstance(item, Figure) and getattr(item.canvas, "manager", None) is None:
                found.append(item)
    return found


def unmanaged_figure_scraper(block: Any, block_vars: dict[str, Any], gallery_conf: dict) -> str:
    """Save the pyplot-less figures a block created; return their reST."""
    from sphinx_gallery.scrapers import figure_rst

    seen = _seen.setdefault(str(block_vars.get("src_file")), [])
    new = []
    for fig in _figures(block_vars["example_globals"]):
        if not any(fig is old for old in seen + new):
            new.append(fig)
    rsts = []
    for fig, path in zip(new, block_vars["image_path_iterator"]):
        seen.append(fig)
        path = PurePosixPath(path)
        fig.savefig(path)
        title = fig._suptitle.get_text() if getattr(fig, "_suptitle", None) else ""
        rsts.append(figure_rst([path], gallery_conf["src_dir"], title))
    return "".join(rsts)


def _get_sg_image_scraper():  # sphinx-gallery calls this hook by name
    return unmanaged_figure_scraper
