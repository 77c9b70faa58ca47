"""Sequences of token indices: padding to one length (Keras' ``pad_sequences``) and next-token windows."""

import numbers

import numpy as np

from ..tensor import Tensor

__all__ = ["pad_sequences", "next_token_windows"]


def pad_sequences(sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre", value=0.0):
    """Pad (or truncate) sequences to one length: a (num_sequences, maxlen) array (Keras semantics).

    Args:
        sequences: a list of sequences (lists or arrays of numbers; each item may itself be an array).
        maxlen: the length. Defaults to the longest sequence.
        dtype: of the result. Defaults to ``'int32'``.
        padding: ``'pre'`` (default) pads at the start, ``'post'`` at the end.
        truncating: ``'pre'`` (default) drops values from the start of longer sequences, ``'post'`` from the end.
        value: the padding value. Defaults to 0.

    Example:
        >>> pad_sequences([[1], [2, 3], [4, 5, 6]])
        array([[0, 0, 1],
               [0, 2, 3],
               [4, 5, 6]], dtype=int32)
        >>> pad_sequences([[1], [2, 3], [4, 5, 6]], maxlen=2, padding="post")
        array([[1, 0],
               [2, 3],
               [5, 6]], dtype=int32)
    """
    if isinstance(sequences, (str, bytes)) or not hasattr(sequences, "__len__"):
        raise ValueError(f"`sequences` must be a list of iterables; got {type(sequences).__name__}")
    if padding not in ("pre", "post"):
        raise ValueError(f'Padding type "{padding}" not understood; expected "pre" or "post"')
    if truncating not in ("pre", "post"):
        raise ValueError(f'Truncating type "{truncating}" not understood; expected "pre" or "post"')
    if maxlen is not None and (isinstance(maxlen, bool) or not isinstance(maxlen, numbers.Integral) or maxlen < 0):
        raise ValueError(f"maxlen should be a non-negative integer or None; got maxlen={maxlen!r}")
    sequences = [s.numpy() if isinstance(s, Tensor) else s for s in sequences]
    lengths, sample_shape = [], ()
    found_shape = False
    for position, s in enumerate(sequences):
        if isinstance(s, (str, bytes)):
            raise ValueError(
                f"`sequences` must hold sequences of token indices; found a string at position {position} "
                "(convert texts with Tokenizer.texts_to_sequences first)"
            )
        if not hasattr(s, "__len__"):
            raise ValueError(
                f"`sequences` must be a list of iterables. Found non-iterable at position {position}: {s!r}"
            )
        lengths.append(len(s))
        if not found_shape and len(s):
            sample_shape = np.asarray(s).shape[1:]  # taken from the first non-empty sequence
            found_shape = True
    if maxlen is None:
        maxlen = max(lengths, default=0)
    is_text = np.issubdtype(np.dtype(dtype), np.str_)
    if isinstance(value, str) and np.dtype(dtype) != object and not is_text:
        raise ValueError(f"`dtype` {dtype} is not compatible with `value`'s type: str. Use dtype=object for strings.")
    out = np.full((len(sequences), maxlen) + sample_shape, value, dtype=dtype)
    if maxlen == 0:
        return out
    for row, s in enumerate(sequences):
        if not len(s):
            continue
        kept = s[-maxlen:] if truncating == "pre" else s[:maxlen]
        kept = np.asarray(kept, dtype=dtype)
        if kept.shape[1:] != sample_shape:
            raise ValueError(
                f"Shape of sample {kept.shape[1:]} of sequence at position {row} is different from expected shape {sample_shape}"
            )
        if padding == "post":
            out[row, : len(kept)] = kept
        else:
            out[row, -len(kept) :] = kept
    return out


def next_token_windows(ids, length, step=1):
    """Cut a long sequence into training pairs for next-token prediction (text generation).

    ``inputs[i] = ids[i*step : i*step + length]`` and ``targets[i]`` is the same window shifted by one.

    Args:
        ids: a 1-D sequence of token indices (e.g. ``CharVocab.encode(text)``).
        length: window length.
        step: distance between window starts. Defaults to 1.

    Returns:
        ``(inputs, targets)``: int64 arrays of shape (windows, length).

    Example:
        >>> x, y = next_token_windows([1, 2, 3, 4, 5], length=3)
        >>> x.tolist(), y.tolist()
        ([[1, 2, 3], [2, 3, 4]], [[2, 3, 4], [3, 4, 5]])
    """
    ids = np.asarray(ids.numpy() if isinstance(ids, Tensor) else ids, dtype=np.int64)
    if ids.ndim != 1:
        raise ValueError(f"next_token_windows expects a 1-D sequence; got shape {ids.shape}")
    for name, v in (("length", length), ("step", step)):
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1:
            raise ValueError(f"{name} should be a positive integer; got {name}={v!r}")
    if len(ids) < length + 1:
        raise ValueError(
            f"a sequence of {len(ids)} tokens is too short for windows of length {length} (needs {length + 1})"
        )
    starts = np.arange(0, len(ids) - length, step)
    offsets = starts[:, None] + np.arange(length)
    return ids[offsets], ids[offsets + 1]
