"""``keras.preprocessing``: text tokenising and sequence padding, from :mod:`shendu.text`."""

from . import sequence, text

__all__ = ["text", "sequence"]
