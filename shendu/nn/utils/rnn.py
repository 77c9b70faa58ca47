"""Variable-length sequences for recurrent layers: padding and packing (``torch.nn.utils.rnn``).

A :class:`PackedSequence` stores a batch of sequences of different lengths time step by time
step: ``data`` holds, for t = 0, 1, ..., the t-th element of every sequence still running (the
sequences sorted by decreasing length), and ``batch_sizes[t]`` says how many there are. RNN, LSTM
and GRU take one and return one, running each step on exactly the sequences still running, so a
padded position never touches a hidden state. Every function is differentiable.

Example:
    >>> packed = pack_padded_sequence(padded, lengths, batch_first=True, enforce_sorted=False)
    >>> output, (h_n, c_n) = lstm(packed)            # h_n: each sequence's state at its own last step
    >>> output, lengths = pad_packed_sequence(output, batch_first=True)
"""

from collections import namedtuple

import numpy as np

from ...tensor import Tensor

__all__ = [
    "PackedSequence", "pack_padded_sequence", "pad_packed_sequence", "pad_sequence", "pack_sequence",
    "unpad_sequence", "unpack_sequence",
]  # fmt: skip


class PackedSequence(namedtuple("PackedSequence", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])):
    """``(data, batch_sizes, sorted_indices, unsorted_indices)``, as PyTorch's; build it with the functions here."""

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None and sorted_indices is not None:
            unsorted_indices = _invert(sorted_indices)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    @property
    def is_cuda(self):
        return False

    def to(self, *args, **kwargs):
        data = self.data.to(*args, **kwargs)
        return self if data is self.data else type(self)(data, self.batch_sizes, self.sorted_indices, self.unsorted_indices)

    def is_pinned(self):
        return False


def _invert(permutation):
    order = permutation._array if isinstance(permutation, Tensor) else np.asarray(permutation)
    inverse = np.empty_like(order)
    inverse[order] = np.arange(len(order), dtype=order.dtype)
    return Tensor(inverse)


def _lengths(lengths, batch):
    array = lengths._array if isinstance(lengths, Tensor) else np.asarray(lengths)
    if array.ndim != 1 or array.dtype.kind not in "iu":
        raise ValueError(f"lengths must be a 1-D sequence of integers; got {array.dtype} array of shape {array.shape}")
    if len(array) != batch:
        raise ValueError(f"Expected `len(lengths)` to be equal to batch_size, but got {len(array)} (batch_size={batch})")
    if len(array) and array.min() <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an element in 'lengths' that is <= 0")
    return array.astype(np.int64)


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack a padded batch (T, B, *) — or (B, T, *) with ``batch_first`` — of sequences of ``lengths``.

    With ``enforce_sorted`` the lengths must already decrease; otherwise the batch is sorted here
    and ``sorted_indices`` / ``unsorted_indices`` remember how.
    """
    from ...ops.indexing import index_select
    from ...ops.shape import cat, transpose

    if not isinstance(input, Tensor):
        raise TypeError(f"pack_padded_sequence expects a Tensor; got {type(input).__name__}")
    if batch_first:
        input = transpose(input, 0, 1)
    if input.ndim < 2:
        raise ValueError(f"pack_padded_sequence expects input of at least 2 dimensions (T, B, *); got shape {tuple(input.shape)}")
    lengths = _lengths(lengths, input.shape[1])
    if enforce_sorted:
        if np.any(np.diff(lengths) > 0):
            raise RuntimeError(
                "`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. You can pass "
                "`enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to sidestep this requirement if "
                "you do not need ONNX exportability."
            )
        sorted_indices = None
    else:
        order = np.argsort(-lengths, kind="stable")
        sorted_indices = Tensor(order.astype(np.int64))
        lengths = lengths[order]
        input = index_select(input, 1, sorted_indices)
    if lengths[0] > input.shape[0]:
        raise RuntimeError(f"the longest length ({lengths[0]}) is longer than the padded input ({input.shape[0]} steps)")
    batch_sizes = np.array([(lengths > t).sum() for t in range(int(lengths[0]))], dtype=np.int64)
    data = cat([input[t, : int(size)] for t, size in enumerate(batch_sizes)], 0)
    return PackedSequence(data, Tensor(batch_sizes), sorted_indices, None)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """The inverse of :func:`pack_padded_sequence`: ``(padded, lengths)`` in the batch's original order."""
    from ...ops.indexing import index_select
    from ...ops.shape import stack, transpose
    from ...creation import full

    if not isinstance(sequence, PackedSequence):
        raise TypeError(f"pad_packed_sequence expects a PackedSequence; got {type(sequence).__name__}")
    batch_sizes = sequence.batch_sizes._array
    steps, batch = len(batch_sizes), int(batch_sizes[0])
    if total_length is not None:
        if total_length < steps:
            raise ValueError(
                f"Expected total_length to be at least the length of the longest sequence in input, but got total_length={total_length} "
                f"and max sequence length being {steps}"
            )
        steps = total_length
    data = sequence.data
    trailing = tuple(data.shape[1:])
    rows, offset = [], 0
    for t in range(steps):
        size = int(batch_sizes[t]) if t < len(batch_sizes) else 0
        part = data[offset : offset + size]
        offset += size
        if size < batch:
            pad = full((batch - size, *trailing), padding_value, dtype=data.dtype)
            part = pad if size == 0 else _cat_rows(part, pad)
        rows.append(part)
    padded = stack(rows, 0)
    lengths = np.array([(batch_sizes > b).sum() for b in range(batch)], dtype=np.int64)
    if sequence.unsorted_indices is not None:
        padded = index_select(padded, 1, sequence.unsorted_indices)
        lengths = lengths[sequence.unsorted_indices._array]
    if batch_first:
        padded = transpose(padded, 0, 1)
    return padded, Tensor(lengths)


def _cat_rows(a, b):
    from ...ops.shape import cat

    return cat([a, b], 0)


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack tensors of shape (Lᵢ, *) into (L_max, B, *) — (B, L_max, *) with ``batch_first`` — padding them."""
    from ...creation import full
    from ...ops.shape import cat, stack

    if isinstance(sequences, Tensor):
        sequences = list(sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    if padding_side not in ("left", "right"):
        raise ValueError(f"Expected padding_side to be one of left or right, but got {padding_side}.")
    longest = max(s.shape[0] for s in sequences)
    padded = []
    for s in sequences:
        missing = longest - s.shape[0]
        if missing:
            pad = full((missing, *s.shape[1:]), padding_value, dtype=s.dtype)
            s = cat([s, pad] if padding_side == "right" else [pad, s], 0)
        padded.append(s)
    return stack(padded, 0 if batch_first else 1)


def pack_sequence(sequences, enforce_sorted=True):
    """Pack a list of tensors (Lᵢ, *) (by decreasing length unless ``enforce_sorted=False``)."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """The list of tensors a padded batch holds (the inverse of :func:`pad_sequence`)."""
    from ...ops.shape import transpose

    if not batch_first:
        padded_sequences = transpose(padded_sequences, 0, 1)
    lengths = lengths._array if isinstance(lengths, Tensor) else np.asarray(lengths)
    return [padded_sequences[i, : int(n)] for i, n in enumerate(lengths)]


def unpack_sequence(packed_sequences):
    """The list of tensors a PackedSequence holds (the inverse of :func:`pack_sequence`)."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
