"""Embedding: a lookup table of learnable vectors, one row per token id."""

from .. import _dtype
from .._backend import xp
from ..ops.embedding import indices_of, lookup
from ..tensor import Tensor
from . import init
from .module import Module
from .parameter import Parameter

__all__ = ["Embedding", "EmbeddingBag"]


def _positive_int(layer, name, value):
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{layer}: {name} must be a positive integer. Received: {name}={value!r}")


class Embedding(Module):
    """A lookup table: y = W[x], the row of W for each integer index in x.

    Args:
        num_embeddings: size of the vocabulary (rows of W).
        embedding_dim: size of each vector (columns of W).
        padding_idx: this row is initialised to zeros and never updated. Defaults to None.
        max_norm: rows looked up with a larger norm are rescaled to it, in place. Defaults to None.
        norm_type: the p of the norm for ``max_norm``. Defaults to 2.0.
        scale_grad_by_freq: divide gradients by the index's count in the batch. Defaults to False.
        sparse: sparse gradients are not supported; must be False.
        dtype: parameter dtype. Defaults to float32.

    Shape:
        input (*) of integers in [0, num_embeddings) → output (*, embedding_dim).

    Attributes:
        weight: (num_embeddings, embedding_dim), initialised N(0, 1) (as PyTorch).

    Example:
        >>> emb = Embedding(10000, 64)
        >>> emb(randint(0, 10000, (32, 100))).shape
        shendu.Size([32, 100, 64])
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx=None,
        max_norm=None,
        norm_type=2.0,
        scale_grad_by_freq: bool = False,
        sparse: bool = False,
        _weight=None,
        _freeze: bool = False,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__()
        _positive_int("Embedding", "num_embeddings", num_embeddings)
        _positive_int("Embedding", "embedding_dim", embedding_dim)
        if padding_idx is not None:
            if not isinstance(padding_idx, int) or not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(
                    f"Embedding: padding_idx must be within num_embeddings={num_embeddings}. Received: padding_idx={padding_idx!r}"
                )
            padding_idx %= num_embeddings
        if max_norm is not None and not max_norm > 0:
            raise ValueError(f"Embedding: max_norm must be positive. Received: max_norm={max_norm!r}")
        if sparse:
            raise ValueError("Embedding: sparse gradients are not supported. Received: sparse=True")
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx, self.max_norm, self.norm_type = padding_idx, max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse
        if _weight is None:
            numpy_dtype = _dtype.default_float.numpy_dtype if dtype is None else _dtype.to_numpy_dtype(dtype)
            self.weight = Parameter(xp.empty((num_embeddings, embedding_dim), numpy_dtype), requires_grad=not _freeze)
            self.reset_parameters()
        else:
            array = _weight._array if isinstance(_weight, Tensor) else xp.asarray(_weight)
            if array.shape != (num_embeddings, embedding_dim):
                raise ValueError(
                    f"Embedding: _weight has shape {array.shape}; expected ({num_embeddings}, {embedding_dim})"
                )
            self.weight = Parameter(array.copy(), requires_grad=not _freeze)

    def reset_parameters(self):
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight._array[self.padding_idx] = 0

    @classmethod
    def from_pretrained(
        cls,
        embeddings,
        freeze=True,
        padding_idx=None,
        max_norm=None,
        norm_type=2.0,
        scale_grad_by_freq=False,
        sparse=False,
    ):
        """An Embedding whose weight is a copy of ``embeddings`` (2-D tensor or array), frozen by default.

        Args:
            embeddings: (num_embeddings, embedding_dim) floating-point matrix.
            freeze: keep the weight fixed (``weight.requires_grad = False``). Defaults to True.
            padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse: as for the constructor.

        Example:
            >>> emb = Embedding.from_pretrained(tensor([[1.0, 2.3], [4.0, 5.1]]))
            >>> emb(tensor([1]))
            tensor([[4.0000, 5.1000]])
        """
        array = embeddings._array if isinstance(embeddings, Tensor) else xp.asarray(embeddings)
        if array.ndim != 2:
            raise ValueError(f"Embedding.from_pretrained: embeddings must be 2-D; got shape {array.shape}")
        if array.dtype.kind != "f":
            raise TypeError(f"Embedding.from_pretrained: embeddings must be floating point; got dtype {array.dtype}")
        rows, dim = array.shape
        return cls(
            rows,
            dim,
            padding_idx=padding_idx,
            max_norm=max_norm,
            norm_type=norm_type,
            scale_grad_by_freq=scale_grad_by_freq,
            sparse=sparse,
            _weight=array,
            _freeze=freeze,
        )

    def forward(self, input: Tensor) -> Tensor:
        idx = indices_of(input, self.num_embeddings, f"Embedding(num_embeddings={self.num_embeddings})")
        return lookup(idx, self.weight, self.padding_idx, self.max_norm, self.norm_type, self.scale_grad_by_freq)

    def extra_repr(self):
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            text += f", max_norm={self.max_norm}"
        if self.norm_type != 2.0:
            text += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            text += ", scale_grad_by_freq=True"
        return text


class EmbeddingBag(Module):
    """Sums or means (or maxima) of bags of embeddings, without building the per-token tensor in between the
    user's code and the reduction (``F.embedding_bag``); as ``torch.nn.EmbeddingBag``.

    Args:
        num_embeddings, embedding_dim, max_norm, norm_type, scale_grad_by_freq, padding_idx: as :class:`Embedding`.
        mode: "sum", "mean" or "max". Defaults to "mean".
        include_last_offset: ``offsets`` has one more entry, the end of the last bag. Defaults to False.

    Call: ``bag(input, offsets=None, per_sample_weights=None)`` — input (B, N), or 1-D with ``offsets`` (B,).

    Example:
        >>> bag = EmbeddingBag(10000, 64)
        >>> bag(tensor([1, 2, 4, 5, 4, 3, 2, 9]), tensor([0, 4])).shape
        shendu.Size([2, 64])
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, max_norm=None, norm_type=2.0, scale_grad_by_freq: bool = False,
                 mode="mean", sparse: bool = False, _weight=None, include_last_offset: bool = False, padding_idx=None, device=None,
                 dtype=None) -> None:  # fmt: skip
        super().__init__()
        if mode not in ("sum", "mean", "max"):
            raise ValueError(f"EmbeddingBag: mode must be 'sum', 'mean' or 'max'. Received: mode={mode!r}")
        table = Embedding(num_embeddings, embedding_dim, padding_idx=padding_idx, max_norm=max_norm,
                          norm_type=norm_type, scale_grad_by_freq=scale_grad_by_freq, sparse=sparse, _weight=_weight,
                          dtype=dtype)  # fmt: skip
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.max_norm, self.norm_type, self.scale_grad_by_freq = max_norm, norm_type, scale_grad_by_freq
        self.mode, self.sparse, self.include_last_offset = mode, sparse, include_last_offset
        self.padding_idx = table.padding_idx
        self.weight = table.weight

    def reset_parameters(self):
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight._array[self.padding_idx] = 0

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
                        mode="mean", sparse=False, include_last_offset=False, padding_idx=None):  # fmt: skip
        array = embeddings._array if isinstance(embeddings, Tensor) else xp.asarray(embeddings)
        if array.ndim != 2:
            raise ValueError(f"EmbeddingBag.from_pretrained: embeddings must be 2-D; got shape {array.shape}")
        bag = cls(array.shape[0], array.shape[1], max_norm=max_norm, norm_type=norm_type,
                  scale_grad_by_freq=scale_grad_by_freq, mode=mode, sparse=sparse, _weight=array,
                  include_last_offset=include_last_offset, padding_idx=padding_idx)  # fmt: skip
        bag.weight.requires_grad_(not freeze)
        return bag

    def forward(self, input: Tensor, offsets=None, per_sample_weights=None):
        from ..ops.embedding import embedding_bag

        return embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type, self.scale_grad_by_freq,
                             self.mode, self.sparse, per_sample_weights, self.include_last_offset, self.padding_idx)  # fmt: skip

    def extra_repr(self):
        text = f"{self.num_embeddings}, {self.embedding_dim}, mode='{self.mode}'"
        return text + (f", padding_idx={self.padding_idx}" if self.padding_idx is not None else "")
