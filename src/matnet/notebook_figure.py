"""The Figure class of matnet's pictures: matplotlib's own, which also shows itself in a notebook.

matnet draws without pyplot, so that drawing never switches the caller's backend; but a Figure
made without pyplot has no picture in Jupyter until ``%matplotlib inline`` registers one (a cell
ending in it printed only ``<Figure size 640x400 with 1 Axes>``). ``_repr_png_`` is IPython's
hook for an object's PNG: with it, a returned figure displays as an image in any kernel, with
or without the magic. Imported only where matplotlib is (``matnet.plots.require_matplotlib``).
"""

from __future__ import annotations

import io

from matplotlib import figure

DPI = 110  # dots per inch of every picture matnet writes or shows


class Figure(figure.Figure):
    """A ``matplotlib.figure.Figure`` that IPython and Jupyter display as a PNG image."""

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", dpi=DPI)
        return buffer.getvalue()
