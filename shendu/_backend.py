"""The array module behind every tensor.

Ops never name NumPy directly: they use ``xp`` (or ``get_array_module(array)``),
so a CuPy backend can be dropped in by changing this one module.
"""

import numpy

xp = numpy


def get_array_module(array=None):
    """Return the array module (NumPy today) that owns ``array``."""
    return xp
