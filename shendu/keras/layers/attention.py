"""Attention layers: MultiHeadAttention (Vaswani et al. 2017) and dot-product Attention (Luong et al. 2015).

Weights are created in Keras' layouts (``query/kernel`` of shape (dim, heads, key_dim), ...), so
``get_weights``/``set_weights`` exchange them with Keras as they are. Masks follow Keras: the
query's and value's Keras masks (from ``Embedding(mask_zero=True)`` or ``Masking``), an explicit
``attention_mask`` (True = may attend) and ``use_causal_mask`` are combined; masked scores get
−10⁹ before the softmax.
"""

import math

import numpy as np

from ...nn import functional as F
from ...tensor import Tensor
from .base import Layer, _shape_of

__all__ = ["MultiHeadAttention", "Attention"]

_LARGE_NEGATIVE = -1e9


def _as_tensor(value):
    return value if isinstance(value, Tensor) or value is None else Tensor(np.asarray(value))


def _keras_mask(tensor, given=None):
    """The mask given explicitly, else the Keras mask the tensor carries (None when there is none)."""
    return given if given is not None else getattr(tensor, "_keras_mask", None)


def _combined_mask(query_mask, value_mask, attention_mask, causal_steps=None):
    """(B, Tq, Tv) boolean array of allowed (query, value) pairs, or None when everything is allowed.

    ``causal_steps`` = (Tq, Tv) adds the causal mask (a query step sees the value steps up to its own).
    """
    parts = []
    if query_mask is not None:
        parts.append(np.asarray(_as_tensor(query_mask)._array, bool)[:, :, None])
    if value_mask is not None:
        parts.append(np.asarray(_as_tensor(value_mask)._array, bool)[:, None, :])
    if attention_mask is not None:
        parts.append(np.asarray(_as_tensor(attention_mask)._array, bool))
    if causal_steps is not None:
        tq, tv = causal_steps
        parts.append(np.tril(np.ones((tq, tv), bool), tv - tq)[None])
    return np.logical_and.reduce(np.broadcast_arrays(*parts)) if parts else None


def _masked_softmax(scores, mask):
    """softmax over the last axis with masked positions pushed to −10⁹ first (Keras' Softmax with a mask)."""
    if mask is not None:
        scores = scores + Tensor(np.where(mask, 0.0, _LARGE_NEGATIVE).astype(scores._array.dtype))
    return F.softmax(scores, dim=-1)


class MultiHeadAttention(Layer):
    """softmax(Q·Kᵀ/√key_dim)·V over ``num_heads`` heads, each with its own projections, then an output projection.

    Args:
        num_heads: the number of heads.
        key_dim: the size of each head's query and key.
        value_dim: the size of each head's value. Defaults to key_dim.
        dropout: dropout rate on the attention probabilities (training only). Defaults to 0.
        use_bias: Defaults to True.
        output_shape: the last dimension of the output. Defaults to the query's.

    Call arguments:
        query (B, Tq, dim), value (B, Tv, dim), key (B, Tv, dim; defaults to value), attention_mask
        (B, Tq, Tv), return_attention_scores, use_causal_mask, training.

    Example:
        >>> MultiHeadAttention(num_heads=2, key_dim=32)(x, x)   # self-attention, (B, T, dim) -> (B, T, dim)
    """

    supports_masking = True

    def __init__(self, num_heads: int, key_dim: int, value_dim=None, dropout: float = 0.0, use_bias: bool = True, output_shape=None,
                 attention_axes=None, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, seed=None, **kwargs) -> None:  # fmt: skip
        super().__init__(**kwargs)
        for name, value in (("num_heads", num_heads), ("key_dim", key_dim)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"MultiHeadAttention: {name} must be a positive integer. Received: {name}={value!r}")
        if attention_axes not in (None, 1, (1,), [1]):  # Keras writes [1] for the sequence axis of (B, T, dim)
            raise ValueError("MultiHeadAttention: only attention over the sequence axis (attention_axes=None) is supported")
        if any(v is not None for v in (kernel_regularizer, bias_regularizer, activity_regularizer, kernel_constraint,
                                       bias_constraint)):  # fmt: skip
            raise ValueError("MultiHeadAttention: regularizers and constraints are not supported by shendu")
        self.num_heads, self.key_dim = num_heads, key_dim
        self.value_dim = value_dim if value_dim is not None else key_dim
        self.dropout, self.use_bias, self.seed = float(dropout), bool(use_bias), seed
        self._output_dim = output_shape if output_shape is None or isinstance(output_shape, int) else output_shape[-1]
        self.kernel_initializer, self.bias_initializer = kernel_initializer, bias_initializer
        self._projections_built = False

    def build(self, input_shape):
        pass  # the projections need the value's shape too: built on the first call (symbolic or not)

    def _build_projections(self, query_shape, value_shape, key_shape):
        query_dim, value_dim = query_shape[-1], value_shape[-1]
        key_dim = key_shape[-1] if key_shape is not None else value_dim
        heads, out = self.num_heads, self._output_dim or query_dim

        def projection(name, shape, bias_shape):
            kernel = self.add_weight(shape=shape, initializer=self.kernel_initializer, name=f"{name}_kernel")
            kernel.path = f"{self.name}/{name}/kernel"
            bias = None
            if self.use_bias:
                bias = self.add_weight(shape=bias_shape, initializer=self.bias_initializer, name=f"{name}_bias")
                bias.path = f"{self.name}/{name}/bias"
            return kernel, bias

        self._query = projection("query", (query_dim, heads, self.key_dim), (heads, self.key_dim))
        self._key = projection("key", (key_dim, heads, self.key_dim), (heads, self.key_dim))
        self._value = projection("value", (value_dim, heads, self.value_dim), (heads, self.value_dim))
        self._output = projection("attention_output", (heads, self.value_dim, out), (out,))
        self._projections_built = True
        self.built = True

    def __call__(self, query, value=None, key=None, **kwargs):
        if value is None:
            raise TypeError(f"{self.name}: MultiHeadAttention needs query and value (and optionally key)")
        if not self._projections_built:
            self._build_projections(_shape_of(query), _shape_of(value), None if key is None else _shape_of(key))
        if key is not None:
            kwargs["key"] = key
        return super().__call__(query, value, **kwargs)

    @staticmethod
    def _project(x, kernel, bias):
        """(B, T, dim) × (dim, heads, size) → (B, T, heads, size)."""
        b, t, dim = x.shape
        y = (x.reshape(b * t, dim) @ kernel.reshape(dim, -1)).reshape(b, t, *kernel.shape[1:])
        return y if bias is None else y + bias

    def call(self, query, value, key=None, query_mask=None, value_mask=None, key_mask=None, attention_mask=None,
             return_attention_scores=False, training=None, use_causal_mask=False):  # fmt: skip
        key = value if key is None else key
        q = self._project(query, *self._query) * (1.0 / math.sqrt(self.key_dim))
        k = self._project(key, *self._key)
        v = self._project(value, *self._value)
        scores = q.permute(0, 2, 1, 3) @ k.permute(0, 2, 3, 1)  # (B, H, Tq, Tv)
        mask = _combined_mask(_keras_mask(query, query_mask), _keras_mask(value, value_mask), attention_mask,
                              (query.shape[1], value.shape[1]) if use_causal_mask else None)  # fmt: skip
        probabilities = _masked_softmax(scores, None if mask is None else mask[:, None])
        if self.dropout and self.training:
            probabilities = F.dropout(probabilities, self.dropout, True)
        context = (probabilities @ v.permute(0, 2, 1, 3)).permute(0, 2, 1, 3)  # (B, Tq, H, Dv)
        kernel, bias = self._output
        b, t = context.shape[:2]
        out = (context.reshape(b * t, -1) @ kernel.reshape(-1, kernel.shape[-1])).reshape(b, t, kernel.shape[-1])
        if bias is not None:
            out = out + bias
        return (out, probabilities) if return_attention_scores else out

    def compute_mask(self, inputs, previous_mask=None):
        if isinstance(previous_mask, list):
            return previous_mask[0]
        return previous_mask

    def compute_output_shape(self, input_shape):
        shape = input_shape[0] if isinstance(input_shape, list) else input_shape
        return tuple(shape[:-1]) + (self._output_dim or shape[-1],)

    def get_config(self):
        return {**super().get_config(), "num_heads": self.num_heads, "key_dim": self.key_dim,
                "value_dim": self.value_dim, "dropout": self.dropout, "use_bias": self.use_bias,
                "output_shape": self._output_dim, "kernel_initializer": self.kernel_initializer
                if isinstance(self.kernel_initializer, str) else "glorot_uniform",
                "bias_initializer": self.bias_initializer if isinstance(self.bias_initializer, str) else "zeros"}  # fmt: skip


class Attention(Layer):
    """Dot-product attention: softmax(scale·Q·Kᵀ)·V, called on ``[query, value]`` or ``[query, value, key]``.

    Args:
        use_scale: learn a scalar ``scale`` (starting at 1). Defaults to False.
        score_mode: "dot" or "concat" (tanh(q + k) summed, scaled by ``concat_score_weight``). Defaults to "dot".
        dropout: on the attention probabilities (training only). Defaults to 0.
    """

    supports_masking = True

    def __init__(self, use_scale: bool = False, score_mode="dot", dropout: float = 0.0, seed=None, **kwargs) -> None:
        super().__init__(**kwargs)
        if score_mode not in ("dot", "concat"):
            raise ValueError(f"Invalid value for argument score_mode. Expected one of {{'dot', 'concat'}}. "
                             f"Received: score_mode={score_mode}")  # fmt: skip
        self.use_scale, self.score_mode, self.dropout, self.seed = bool(use_scale), score_mode, float(dropout), seed

    def build(self, input_shape):
        if self.use_scale:
            self.scale = self.add_weight(shape=(), initializer="ones", name="scale")
        if self.score_mode == "concat":
            self.concat_score_weight = self.add_weight(shape=(), initializer="ones", name="concat_score_weight")

    def call(self, inputs, mask=None, training=None, return_attention_scores=False, use_causal_mask=False):
        if not isinstance(inputs, (list, tuple)) or len(inputs) not in (2, 3):
            raise ValueError(f"{self.name}: Attention expects a list [query, value] or [query, value, key]")
        query, value = inputs[0], inputs[1]
        key = inputs[2] if len(inputs) == 3 else value
        if self.score_mode == "dot":
            scores = query @ key.permute(0, 2, 1)
            if self.use_scale:
                scores = scores * self.scale
        else:
            summed = query.unsqueeze(2) + key.unsqueeze(1)
            if self.use_scale:
                summed = summed * self.scale
            scores = summed.tanh().sum(dim=-1) * self.concat_score_weight
        masks = list(mask) if isinstance(mask, (list, tuple)) else [None, None]
        # as Keras: the value's mask (and causality) shape the scores; the query's only zeroes the output rows
        combined = _combined_mask(None, _keras_mask(value, masks[1] if len(masks) > 1 else None), None,
                                  (query.shape[1], value.shape[1]) if use_causal_mask else None)  # fmt: skip
        probabilities = _masked_softmax(scores, combined)
        if self.dropout and self.training:
            probabilities = F.dropout(probabilities, self.dropout, True)
        out = probabilities @ value
        if masks[0] is not None:
            out = out * Tensor(np.asarray(_as_tensor(masks[0])._array, out._array.dtype)[:, :, None])
        return (out, probabilities) if return_attention_scores else out

    def compute_mask(self, inputs, previous_mask=None):
        return previous_mask[0] if isinstance(previous_mask, list) else None

    def compute_output_shape(self, input_shape):
        query, value = input_shape[0], input_shape[1]
        return tuple(query[:-1]) + (value[-1],)

    def get_config(self):
        return {**super().get_config(), "use_scale": self.use_scale, "score_mode": self.score_mode,
                "dropout": self.dropout}  # fmt: skip
