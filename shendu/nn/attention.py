"""Attention and the Transformer encoder (PyTorch's ``MultiheadAttention``, ``TransformerEncoderLayer``,
``TransformerEncoder`` and ``F.scaled_dot_product_attention``), with PyTorch's parameter names.

Attention(Q, K, V) = softmax(Q·Kᵀ/√d + mask)·V, per head; masks are boolean (True: not attended)
or additive floats, as in PyTorch. Everything is composed of differentiable ops.
"""

import copy
import math

import numpy as np

from .. import _dtype
from ..ops.activation import gelu, relu, softmax
from ..ops.arithmetic import where
from ..ops.dropout import dropout as dropout_fn
from ..ops.linalg import linear
from ..ops.shape import reshape, transpose
from ..tensor import Tensor
from . import init
from .dropout import Dropout
from .linear import Linear
from .module import Module, ModuleList
from .normalization import LayerNorm
from .parameter import Parameter

__all__ = ["scaled_dot_product_attention", "MultiheadAttention", "TransformerEncoderLayer", "TransformerEncoder",
           "TransformerDecoderLayer", "TransformerDecoder", "Transformer"]


def _additive(mask, dtype):
    """A boolean mask (True: masked) or a float mask as an additive array (0 or −inf)."""
    if mask is None:
        return None
    array = mask._array if isinstance(mask, Tensor) else np.asarray(mask)
    if array.dtype == np.bool_:
        return Tensor(np.where(array, -np.inf, 0.0).astype(dtype))
    return mask if isinstance(mask, Tensor) else Tensor(array.astype(dtype))


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None, enable_gqa=False):
    """softmax(Q·Kᵀ·scale + mask)·V over the last two dimensions; ``attn_mask`` boolean (True: attend, as PyTorch's
    function) or additive; ``is_causal`` masks the future."""
    d = query.shape[-1]
    scale = 1.0 / math.sqrt(d) if scale is None else scale
    scores = (query @ transpose(key, -2, -1)) * scale
    length, source = query.shape[-2], key.shape[-2]
    if is_causal:
        causal = np.triu(np.ones((length, source), dtype=bool), 1)
        scores = scores + Tensor(np.where(causal, -np.inf, 0.0).astype(scores._array.dtype))
    if attn_mask is not None:
        array = attn_mask._array if isinstance(attn_mask, Tensor) else np.asarray(attn_mask)
        scores = scores + (Tensor(np.where(array, 0.0, -np.inf).astype(scores._array.dtype)) if array.dtype == np.bool_ else attn_mask)
    weights = softmax(scores, -1)
    if dropout_p > 0:
        weights = dropout_fn(weights, dropout_p, True)
    return weights @ value


class MultiheadAttention(Module):
    """Multi-head attention (Vaswani et al., 2017) with PyTorch's parameters: ``in_proj_weight`` (3E, E),
    ``in_proj_bias``, ``out_proj`` (a Linear); ``batch_first`` as PyTorch. Returns (output, weights averaged
    over the heads, or per head with ``average_attn_weights=False``; None with ``need_weights=False``)."""

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True, add_bias_kv: bool = False, add_zero_attn: bool = False, kdim=None,
                 vdim=None, batch_first: bool = False, device=None, dtype=None) -> None:  # fmt: skip
        super().__init__()
        if embed_dim % num_heads:
            raise AssertionError("embed_dim must be divisible by num_heads")
        if add_bias_kv or add_zero_attn or (kdim not in (None, embed_dim)) or (vdim not in (None, embed_dim)):
            raise NotImplementedError("MultiheadAttention: add_bias_kv, add_zero_attn and kdim/vdim other than embed_dim are not available")
        self.embed_dim, self.num_heads, self.dropout, self.batch_first = embed_dim, num_heads, float(dropout), batch_first
        self.head_dim = embed_dim // num_heads
        self.kdim = self.vdim = embed_dim
        self._qkv_same_embed_dim = True
        numpy_dtype = _dtype.default_float.numpy_dtype if dtype is None else _dtype.to_numpy_dtype(dtype)
        self.in_proj_weight = Parameter(np.empty((3 * embed_dim, embed_dim), numpy_dtype))
        if bias:
            self.in_proj_bias = Parameter(np.empty(3 * embed_dim, numpy_dtype))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias)
        self.bias_k = self.bias_v = None
        self.add_zero_attn = False
        self._reset_parameters()

    def _reset_parameters(self):
        init.xavier_uniform_(self.in_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None, average_attn_weights=True, is_causal=False):
        batched = query.ndim == 3
        if not batched:
            query, key, value = (reshape(t, (t.shape[0], 1, t.shape[1])) for t in (query, key, value))
            if key_padding_mask is not None:
                key_padding_mask = reshape(_as_tensor(key_padding_mask), (1, -1))
        elif self.batch_first:
            query, key, value = (transpose(t, 0, 1) for t in (query, key, value))
        length, batch, embed = query.shape
        source = key.shape[0]
        e, h, d = self.embed_dim, self.num_heads, self.head_dim
        w, b = self.in_proj_weight, self.in_proj_bias
        q = linear(query, w[:e], None if b is None else b[:e])
        k = linear(key, w[e : 2 * e], None if b is None else b[e : 2 * e])
        v = linear(value, w[2 * e :], None if b is None else b[2 * e :])

        def heads(x, n):  # (n, N, E) → (N, H, n, d)
            return transpose(reshape(x, (n, batch, h, d)), 0, 2).permute(1, 0, 2, 3)

        q, k, v = heads(q, length), heads(k, source), heads(v, source)
        scores = (q @ transpose(k, -2, -1)) * (1.0 / math.sqrt(d))
        dtype = scores._array.dtype
        if is_causal and attn_mask is None:
            attn_mask = Tensor(np.triu(np.ones((length, source), dtype=bool), 1))
        mask = _additive(attn_mask, dtype)
        if mask is not None:
            scores = scores + (reshape(mask, (batch, h, length, source)) if mask.ndim == 3 else mask)
        padding = _additive(key_padding_mask, dtype)
        if padding is not None:
            scores = scores + reshape(padding, (batch, 1, 1, source))
        weights = softmax(scores, -1)
        weights = where(Tensor(np.isnan(weights._array)), Tensor(np.zeros((), dtype)), weights) if mask is not None or padding is not None else weights
        attended = dropout_fn(weights, self.dropout, self.training) if self.dropout > 0 else weights
        out = attended @ v  # (N, H, L, d)
        out = reshape(out.permute(2, 0, 1, 3), (length, batch, e))
        out = self.out_proj(out)
        if self.batch_first and batched:
            out = transpose(out, 0, 1)
        if not batched:
            out = reshape(out, (length, e))
        if not need_weights:
            return out, None
        weights = weights.mean(dim=1) if average_attn_weights else weights
        if not batched:
            weights = reshape(weights, tuple(weights.shape[1:]))
        return out, weights


def _as_tensor(value):
    return value if isinstance(value, Tensor) else Tensor(np.asarray(value))


def _feed_forward_activation(activation):
    """The feed-forward block's activation: "relu", "gelu" or a callable, as PyTorch's Transformer layers."""
    if isinstance(activation, str):
        if activation not in ("relu", "gelu"):
            raise RuntimeError(f"activation should be relu/gelu, not {activation}")
        return relu if activation == "relu" else gelu
    return activation


class TransformerEncoderLayer(Module):
    """Self-attention and a feed-forward block, each with a residual connection, dropout and LayerNorm
    (after each block, or before with ``norm_first``), with PyTorch's submodule names."""

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.1, activation="relu", layer_norm_eps=1e-5,
                 batch_first: bool = False, norm_first: bool = False, bias: bool = True, device=None, dtype=None) -> None:  # fmt: skip
        super().__init__()
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.activation = _feed_forward_activation(activation)

    def _self_attention(self, x, attn_mask, key_padding_mask, is_causal):
        out = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask, need_weights=False, is_causal=is_causal)[0]
        return self.dropout1(out)

    def _feed_forward(self, x):
        return self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x)))))

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        x = src
        if self.norm_first:
            x = x + self._self_attention(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            return x + self._feed_forward(self.norm2(x))
        x = self.norm1(x + self._self_attention(x, src_mask, src_key_padding_mask, is_causal))
        return self.norm2(x + self._feed_forward(x))


class TransformerEncoder(Module):
    """``num_layers`` copies of ``encoder_layer`` (``layers.0``, ``layers.1``, ...), then ``norm`` if given."""

    def __init__(self, encoder_layer, num_layers: int, norm=None, enable_nested_tensor: bool = True, mask_check: bool = True) -> None:
        super().__init__()
        self.layers = ModuleList([copy.deepcopy(encoder_layer) for _ in range(num_layers)])
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal=None):
        x = src
        for layer in self.layers:
            x = layer(x, src_mask=mask, src_key_padding_mask=src_key_padding_mask, is_causal=bool(is_causal))
        return self.norm(x) if self.norm is not None else x


class TransformerDecoderLayer(Module):
    """Self-attention, attention over the encoder's ``memory``, and a feed-forward block, each with a residual
    connection, dropout and LayerNorm (``norm_first`` as in the encoder), with PyTorch's submodule names."""

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.1, activation="relu", layer_norm_eps=1e-5,
                 batch_first: bool = False, norm_first: bool = False, bias: bool = True, device=None, dtype=None) -> None:  # fmt: skip
        super().__init__()
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first)
        self.multihead_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias)
        self.norm3 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias)
        self.dropout1, self.dropout2, self.dropout3 = Dropout(dropout), Dropout(dropout), Dropout(dropout)
        self.activation = _feed_forward_activation(activation)

    def _self_attention(self, x, mask, padding, causal):
        return self.dropout1(self.self_attn(x, x, x, attn_mask=mask, key_padding_mask=padding, need_weights=False, is_causal=causal)[0])

    def _memory_attention(self, x, memory, mask, padding, causal):
        out = self.multihead_attn(x, memory, memory, attn_mask=mask, key_padding_mask=padding, need_weights=False, is_causal=causal)[0]
        return self.dropout2(out)

    def _feed_forward(self, x):
        return self.dropout3(self.linear2(self.dropout(self.activation(self.linear1(x)))))

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None, memory_key_padding_mask=None,
                tgt_is_causal=False, memory_is_causal=False):  # fmt: skip
        x = tgt
        if self.norm_first:
            x = x + self._self_attention(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._memory_attention(self.norm2(x), memory, memory_mask, memory_key_padding_mask, memory_is_causal)
            return x + self._feed_forward(self.norm3(x))
        x = self.norm1(x + self._self_attention(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
        x = self.norm2(x + self._memory_attention(x, memory, memory_mask, memory_key_padding_mask, memory_is_causal))
        return self.norm3(x + self._feed_forward(x))


class TransformerDecoder(Module):
    """``num_layers`` copies of ``decoder_layer`` (``layers.0``, ...), then ``norm`` if given."""

    def __init__(self, decoder_layer, num_layers: int, norm=None) -> None:
        super().__init__()
        self.layers = ModuleList([copy.deepcopy(decoder_layer) for _ in range(num_layers)])
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None, memory_key_padding_mask=None,
                tgt_is_causal=None, memory_is_causal=False):  # fmt: skip
        x = tgt
        for layer in self.layers:
            x = layer(x, memory, tgt_mask=tgt_mask, memory_mask=memory_mask, tgt_key_padding_mask=tgt_key_padding_mask,
                      memory_key_padding_mask=memory_key_padding_mask, tgt_is_causal=bool(tgt_is_causal),
                      memory_is_causal=memory_is_causal)  # fmt: skip
        return self.norm(x) if self.norm is not None else x


class Transformer(Module):
    """The encoder-decoder Transformer (Vaswani et al., 2017) with PyTorch's arguments and submodule names."""

    def __init__(self, d_model: int = 512, nhead: int = 8, num_encoder_layers: int = 6, num_decoder_layers: int = 6, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation="relu", custom_encoder=None, custom_decoder=None, layer_norm_eps=1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device=None, dtype=None) -> None:  # fmt: skip
        super().__init__()
        self.encoder = custom_encoder or TransformerEncoder(
            TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps, batch_first, norm_first, bias),
            num_encoder_layers, LayerNorm(d_model, eps=layer_norm_eps, bias=bias))  # fmt: skip
        self.decoder = custom_decoder or TransformerDecoder(
            TransformerDecoderLayer(d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps, batch_first, norm_first, bias),
            num_decoder_layers, LayerNorm(d_model, eps=layer_norm_eps, bias=bias))  # fmt: skip
        self.d_model, self.nhead, self.batch_first = d_model, nhead, batch_first
        for p in self.parameters():
            if p.ndim > 1:
                init.xavier_uniform_(p)

    def forward(self, src, tgt, src_mask=None, tgt_mask=None, memory_mask=None, src_key_padding_mask=None,
                tgt_key_padding_mask=None, memory_key_padding_mask=None, src_is_causal=None, tgt_is_causal=None,
                memory_is_causal=False):  # fmt: skip
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask, is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask, tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask, tgt_is_causal=tgt_is_causal,
                            memory_is_causal=memory_is_causal)  # fmt: skip

    @staticmethod
    def generate_square_subsequent_mask(sz, device=None, dtype=None):
        """A float mask of −inf above the diagonal, 0 elsewhere (each position attends to itself and the past)."""
        numpy_dtype = _dtype.default_float.numpy_dtype if dtype is None else _dtype.to_numpy_dtype(dtype)
        return Tensor(np.triu(np.full((sz, sz), -np.inf), 1).astype(numpy_dtype))
