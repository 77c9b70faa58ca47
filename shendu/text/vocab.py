"""A character vocabulary for character-level models (text generation)."""

import numpy as np

from ..tensor import Tensor

__all__ = ["CharVocab"]


class CharVocab:
    """A one-to-one map between characters and the indices 0 to ``len(vocab) - 1``.

    Args:
        chars: the characters, in index order (duplicates are dropped, first kept).
        unknown: a character that stands for characters outside the vocabulary in :meth:`encode`
            (added to the vocabulary if missing). Defaults to None: unknown characters are an error.

    Attributes:
        itos: list of characters by index. stoi: character -> index.

    Example:
        >>> vocab = CharVocab.from_text("hello world")
        >>> vocab.encode("hello")
        array([3, 2, 4, 4, 5])
        >>> vocab.decode([3, 2, 4, 4, 5])
        'hello'
    """

    def __init__(self, chars, unknown=None):
        if isinstance(chars, str):
            chars = list(chars)
        itos = list(dict.fromkeys(chars))
        for c in itos:
            if not isinstance(c, str) or len(c) != 1:
                raise ValueError(f"CharVocab holds single characters; got {c!r}")
        if unknown is not None and unknown not in itos:
            itos.append(unknown)
        self.itos = itos
        self.stoi = {c: i for i, c in enumerate(itos)}
        self.unknown = unknown

    @classmethod
    def from_text(cls, text, unknown=None):
        """The sorted set of characters in ``text`` (a string or a list of strings)."""
        if not isinstance(text, str):
            if isinstance(text, bytes) or not hasattr(text, "__iter__"):
                raise TypeError(f"CharVocab.from_text expects a string or a list of strings; got {type(text).__name__}")
            text = "".join(text)
        return cls(sorted(set(text)), unknown=unknown)

    def __len__(self):
        return len(self.itos)

    def __contains__(self, char):
        return char in self.stoi

    def encode(self, text):
        """A string -> int64 array of indices."""
        if not isinstance(text, str):
            raise TypeError(f"CharVocab.encode expects a string; got {type(text).__name__}")
        fallback = self.stoi.get(self.unknown)
        try:
            return np.fromiter(
                (self.stoi[c] if fallback is None else self.stoi.get(c, fallback) for c in text), np.int64, len(text)
            )
        except KeyError as error:
            position = next(i for i, c in enumerate(text) if c not in self.stoi)
            raise ValueError(
                f"CharVocab.encode: character {error.args[0]!r} at position {position} is not in the vocabulary "
                "(build it from all your text, or give unknown=...)"
            ) from None

    def decode(self, indices):
        """Indices (list, array or tensor) -> string."""
        array = np.asarray(indices.numpy() if isinstance(indices, Tensor) else indices).reshape(-1)
        if array.size and array.dtype.kind not in "iu":
            raise TypeError(f"CharVocab.decode expects integer indices; got dtype {array.dtype}")
        bad = array[(array < 0) | (array >= len(self.itos))]
        if bad.size:
            raise ValueError(
                f"CharVocab.decode: index {int(bad[0])} is out of range for a vocabulary of {len(self)} characters"
            )
        return "".join(self.itos[i] for i in array.tolist())

    def get_config(self):
        """Plain data to rebuild the vocabulary with ``CharVocab.from_config``."""
        return {"chars": "".join(self.itos), "unknown": self.unknown}

    @classmethod
    def from_config(cls, config):
        return cls(config["chars"], unknown=config.get("unknown"))

    def __repr__(self):
        return f"CharVocab({len(self)} characters)"
