"""``keras.preprocessing.sequence``: :func:`pad_sequences` (shendu.text, Keras semantics)."""

from ...text import pad_sequences

__all__ = ["pad_sequences"]
