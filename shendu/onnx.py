"""Export shendu models to ONNX (extra ``[onnx]``): ``export(model, sample_input, path)``.

The model runs once on ``sample_input`` in eval mode while the exporter watches: every op it
records (the autograd graph) becomes ONNX nodes, and a few layers whose ops do not say enough on
their own (Embedding, RNN/LSTM/GRU) are converted whole from their parameters. So a model may be
a ``Sequential`` or any ``Module`` with its own ``forward`` (``h_n[0]``, ``x.flatten(1)``,
``F.relu``, ``torch.cat``-style glue all trace), as long as every op in it has an ONNX form.

Supported: Linear, Conv1d/Conv2d (any padding mode), MaxPool/AvgPool (1-D, 2-D, adaptive),
Flatten/reshape/permute/indexing/concatenation, Dropout (eval), BatchNorm (eval), LayerNorm,
every activation of :mod:`shendu.nn` (Softmax and LogSoftmax along any dim), Embedding,
RNN/LSTM/GRU (stacked, bidirectional, batch_first, with or without an initial state), and
elementwise arithmetic. Anything else stops the export with an :class:`ExportError` that names
the layer and the op.

The graph's batch dimension is symbolic (``batch``) unless ``dynamic_batch=False``. Give a
sample whose batch size differs from the model's other dimensions (2 or 3 is a good choice):
reshapes that copy the batch dimension are recognised by its size.

Gate orders differ between the two worlds and are reordered here: PyTorch/shendu LSTM weights
stack the gates as (i, f, g, o), ONNX as (i, o, f, c); GRU as (r, z, n) against ONNX's (z, r, h)
with ``linear_before_reset=1`` (PyTorch applies the reset gate after the hidden matmul).

Example:
    >>> model = nn.Sequential(nn.Linear(784, 500), nn.ReLU(), nn.Linear(500, 10))
    >>> shendu.onnx.export(model, shendu.randn(2, 784), "mlp.onnx")
    >>> shendu.onnx.run("mlp.onnx", x)[0]          # onnxruntime, CPUExecutionProvider
"""

import math
import os

import numpy as np

__all__ = ["export", "run", "ExportError", "DEFAULT_OPSET"]

DEFAULT_OPSET = 17
_IR_VERSION = 8  # what opset 17 needs; onnxruntime reads it everywhere
_INT64_MAX = np.iinfo(np.int64).max
_INT64_MIN = np.iinfo(np.int64).min


class ExportError(ValueError):
    """The model holds a layer or op that has no ONNX form here, or cannot be traced."""


def _require_onnx():
    try:
        import onnx
    except ImportError:
        raise ImportError(
            "shendu.onnx needs the 'onnx' package (and 'onnxruntime' to run the result): "
            "pip install 'shendu[onnx]'"
        ) from None
    return onnx


# ----- the graph being built -------------------------------------------------------------------
class _Graph:
    """Nodes and initialisers being collected, with unique names.

    ``param(tensor)`` / ``buffer(value, hint)`` name a model's parameters and running statistics by
    their state_dict keys (set by :class:`_Builder`); ``batch_size`` is the sample's batch size when
    the batch dimension is symbolic (else None).
    """

    def __init__(self, onnx, opset, batch_size):
        self.onnx = onnx
        self.helper = onnx.helper
        self.opset, self.batch_size = opset, batch_size
        self.nodes, self.initializers = [], []
        self._taken = set()
        self._counter = 0
        self.param = self.buffer = None

    def fresh(self, hint):
        hint = "".join(c if c.isalnum() or c in "._/" else "_" for c in str(hint)) or "t"
        name = hint
        while name in self._taken:
            self._counter += 1
            name = f"{hint}_{self._counter}"
        self._taken.add(name)
        return name

    def const(self, array, hint="const"):
        array = np.asarray(array)
        if array.dtype == np.float16 or array.dtype.kind not in "fiub":
            raise ExportError(f"cannot store a constant of dtype {array.dtype} in ONNX")
        name = self.fresh(hint)
        self.initializers.append(self.onnx.numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def ints(self, values, hint="shape"):
        return self.const(np.asarray(list(values), dtype=np.int64), hint)

    def node(self, op, inputs, outputs=1, hint=None, **attrs):
        """Add a node; returns its output name (or a list of names when ``outputs`` > 1)."""
        names = [self.fresh(f"{hint or op}") for _ in range(outputs)]
        self.nodes.append(self.helper.make_node(op, list(inputs), names, name=self.fresh(f"{op}_node"), **attrs))
        return names if outputs > 1 else names[0]


def _elem_type(onnx, dtype):
    return onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype))


def _array(t):
    return t._array


# ----- op converters: one per shendu Function class -----------------------------------------------
# Each gets (graph, function, input names, input tensors, output tensor) and returns the output
# name(s). Shapes come from the traced tensors.


def _same_dtype(g, names, tensors, dtype):
    """Cast inputs whose dtype differs from ``dtype`` (ONNX ops do not promote)."""
    out = []
    for name, t in zip(names, tensors):
        if t._array.dtype != dtype:
            name = g.node("Cast", [name], to=_elem_type(g.onnx, dtype))
        out.append(name)
    return out


def _binary(op):
    def convert(g, fn, names, tensors, out):
        return g.node(op, _same_dtype(g, names, tensors, out._array.dtype))

    return convert


def _unary(op):
    def convert(g, fn, names, tensors, out):
        return g.node(op, names[:1])

    return convert


def _scalar(g, value, dtype, hint="scalar"):
    return g.const(np.asarray(value, dtype=dtype), hint)


def _pow_scalar(g, fn, names, tensors, out):
    dtype = out._array.dtype
    exponent = fn.exponent
    if exponent == 2:
        return g.node("Mul", [names[0], names[0]])
    if exponent == 0.5:
        return g.node("Sqrt", names[:1])
    return g.node("Pow", [names[0], _scalar(g, exponent, dtype, "exponent")])


def _log1p(g, fn, names, tensors, out):
    return g.node("Log", [g.node("Add", [names[0], _scalar(g, 1, out._array.dtype, "one")])])


def _expm1(g, fn, names, tensors, out):
    return g.node("Sub", [g.node("Exp", names[:1]), _scalar(g, 1, out._array.dtype, "one")])


def _clamp(g, fn, names, tensors, out):
    dtype = out._array.dtype
    low = "" if fn.low is None else _scalar(g, fn.low, dtype, "min")
    high = "" if fn.high is None else _scalar(g, fn.high, dtype, "max")
    return g.node("Clip", [names[0], low, high])


def _maximum(g, fn, names, tensors, out):
    op = "Max" if getattr(fn, "select_greater", True) else "Min"
    return g.node(op, _same_dtype(g, names, tensors, out._array.dtype))


def _where(g, fn, names, tensors, out):
    condition = g.const(np.asarray(fn.condition, dtype=bool), "condition")
    return g.node("Where", [condition] + _same_dtype(g, names, tensors, out._array.dtype))


def _cast(g, fn, names, tensors, out):
    return g.node("Cast", names[:1], to=_elem_type(g.onnx, out._array.dtype))


def _identity(g, fn, names, tensors, out):
    return g.node("Identity", names[:1])


def _linear(g, fn, names, tensors, out):
    x, weight = tensors[0], tensors[1]
    if x.ndim == 2 and weight.ndim == 2:
        return g.node("Gemm", names, transB=1)
    y = g.node("MatMul", [names[0], g.node("Transpose", [names[1]], perm=[1, 0])])
    return g.node("Add", [y, names[2]]) if len(names) > 2 else y


def _matmul(g, fn, names, tensors, out):
    return g.node("MatMul", _same_dtype(g, names, tensors, out._array.dtype))


def _reshape(g, fn, names, tensors, out):
    source, target = tuple(tensors[0].shape), tuple(out.shape)
    return g.node("Reshape", [names[0], g.ints(_reshape_spec(source, target, g.batch_size), "shape")])


def _reshape_spec(source, target, batch):
    """ONNX Reshape's shape: 0 copies a leading dimension that stays; the batch dimension becomes -1."""
    spec = list(target)
    prefix = 0
    while prefix < min(len(source), len(target)) and source[prefix] == target[prefix]:
        spec[prefix] = 0
        prefix += 1
    if batch is not None and 0 not in spec[:1] and -1 not in spec:
        rest = [i for i in range(prefix, len(spec)) if spec[i] == batch]
        if rest:
            spec[rest[0]] = -1
    return spec


def _flip(g, fn, names, tensors, out):
    axes = [int(a) % tensors[0].ndim for a in (fn.axes if isinstance(fn.axes, (tuple, list)) else (fn.axes,))]
    n = len(axes)
    return g.node("Slice", [names[0], g.ints([-1] * n, "starts"), g.ints([_INT64_MIN] * n, "ends"), g.ints(axes, "axes"),
                            g.ints([-1] * n, "steps")])  # fmt: skip


def _permute(g, fn, names, tensors, out):
    return g.node("Transpose", names[:1], perm=[int(a) for a in fn.axes])


def _concat(g, fn, names, tensors, out):
    return g.node("Concat", _same_dtype(g, names, tensors, out._array.dtype), axis=int(fn.axis))


def _split(g, fn, names, tensors, out):
    sizes = [int(s) for s in fn.sizes]
    result = g.node("Split", [names[0], g.ints(sizes, "split")], outputs=len(sizes), axis=int(fn.axis))
    return result if isinstance(result, list) else [result]


def _axes_of(fn, ndim):
    axes = fn.axes
    if axes is None:
        return list(range(ndim))
    if isinstance(axes, int):
        axes = (axes,)
    return [int(a) % max(ndim, 1) for a in axes]


def _sum(g, fn, names, tensors, out):
    axes = _axes_of(fn, tensors[0].ndim)
    return g.node("ReduceSum", [names[0], g.ints(axes, "axes")], keepdims=int(bool(fn.keepdim)))


def _mean(g, fn, names, tensors, out):
    return g.node("ReduceMean", names[:1], axes=_axes_of(fn, tensors[0].ndim), keepdims=int(bool(fn.keepdim)))


def _max_reduce(g, fn, names, tensors, out):
    op = "ReduceMax" if fn.largest else "ReduceMin"
    return g.node(op, names[:1], axes=_axes_of(fn, tensors[0].ndim), keepdims=int(bool(fn.keepdim)))


def _broadcast_to(g, fn, names, tensors, out):
    source, target = tuple(tensors[0].shape), tuple(fn.shape)
    lead = len(target) - len(source)
    # NOTE: Expand broadcasts both ways, so a 1 keeps the input's own size (and its symbolic batch).
    spec = [1 if i >= lead and source[i - lead] == n else n for i, n in enumerate(target)]
    return g.node("Expand", [names[0], g.ints(spec, "shape")])


def _index(g, fn, names, tensors, out):
    key = fn.key
    x, name = tensors[0], names[0]
    parts = list(key) if isinstance(key, tuple) else [key]
    advanced = [p for p in parts if isinstance(p, np.ndarray)]
    if advanced:
        return _advanced_index(g, parts, x, name)
    consuming = sum(1 for p in parts if p is not None and p is not Ellipsis)
    if Ellipsis in parts:
        at = parts.index(Ellipsis)
        parts[at : at + 1] = [slice(None)] * (x.ndim - consuming)
    starts, ends, axes, steps, squeeze, unsqueeze = [], [], [], [], [], []
    axis = out_axis = 0
    for p in parts:
        if p is None:
            unsqueeze.append(out_axis)
            out_axis += 1
            continue
        if isinstance(p, (int, np.integer)):
            i = int(p)
            starts.append(i)
            ends.append(i + 1 if i != -1 else _INT64_MAX)
            axes.append(axis)
            steps.append(1)
            squeeze.append(axis)
        elif isinstance(p, slice):
            step = 1 if p.step is None else int(p.step)
            if (p.start, p.stop, step) != (None, None, 1):
                starts.append(int(p.start) if p.start is not None else (0 if step > 0 else _INT64_MAX))
                ends.append(int(p.stop) if p.stop is not None else (_INT64_MAX if step > 0 else _INT64_MIN))
                axes.append(axis)
                steps.append(step)
            out_axis += 1
        else:
            raise ExportError(f"indexing with {type(p).__name__} has no ONNX form here")
        axis += 1
    if axes:
        name = g.node("Slice", [name, g.ints(starts, "starts"), g.ints(ends, "ends"), g.ints(axes, "axes"), g.ints(steps, "steps")])
    if squeeze:
        name = g.node("Squeeze", [name, g.ints(squeeze, "axes")])
    if unsqueeze:
        name = g.node("Unsqueeze", [name, g.ints(unsqueeze, "axes")])
    if name == names[0]:
        name = g.node("Identity", [name])
    return name


def _advanced_index(g, parts, x, name):
    """x[..., idx, ...] with one integer array and full slices elsewhere: a Gather."""
    arrays = [i for i, p in enumerate(parts) if isinstance(p, np.ndarray)]
    others = [p for i, p in enumerate(parts) if i not in arrays]
    if len(arrays) != 1 or parts[arrays[0]].dtype.kind not in "iu" or any(p != slice(None) for p in others if p is not Ellipsis):
        raise ExportError("only indexing with one integer array (and ':' elsewhere) has an ONNX form here")
    axis = arrays[0]
    if Ellipsis in parts[:axis]:
        axis = x.ndim - (len(parts) - axis)
    indices = np.asarray(parts[arrays[0]], dtype=np.int64) % x.shape[axis]
    return g.node("Gather", [name, g.const(indices, "indices")], axis=axis)


def _conv2d(g, fn, names, tensors, out):
    top, bottom, left, right = (int(p) for p in fn.padding)
    return g.node(
        "Conv", names, pads=[top, left, bottom, right], strides=[int(s) for s in fn.stride],
        dilations=[int(d) for d in fn.dilation], group=int(fn.groups),
        kernel_shape=[int(k) for k in tensors[1].shape[2:]],
    )  # fmt: skip


def _pad(g, fn, names, tensors, out):
    widths = [(int(a), int(b)) for a, b in fn.widths] if _is_pairs(fn.widths) else None
    if widths is None:
        raise ExportError(f"pad widths {fn.widths!r} have no ONNX form here")
    mode = {"constant": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}.get(fn.mode)
    if mode is None:
        raise ExportError(f"pad mode {fn.mode!r} has no ONNX form")
    if mode == "wrap" and g.opset < 19:
        raise ExportError("circular padding needs ONNX opset 19 or newer (export(..., opset=19))")
    pads = g.ints([a for a, _ in widths] + [b for _, b in widths], "pads")
    inputs = [names[0], pads]
    if mode == "constant":
        inputs.append(_scalar(g, fn.value or 0, out._array.dtype, "pad_value"))
    return g.node("Pad", inputs, mode=mode)


def _is_pairs(widths):
    try:
        return all(len(w) == 2 for w in widths)
    except TypeError:
        return False


def _pool_geometry(fn, x):
    top, bottom, left, right = (int(p) for p in fn.padding)
    kernel, stride, dilation = [int(k) for k in fn.kernel], [int(s) for s in fn.stride], [int(d) for d in fn.dilation]
    # NOTE: shendu's padding already covers every window (ceil_mode included), so ONNX's floor
    # rounding reproduces the output size; checked here, not assumed.
    sizes = [x.shape[2] + top + bottom, x.shape[3] + left + right]
    expected = tuple((n - (d * (k - 1) + 1)) // s + 1 for n, k, s, d in zip(sizes, kernel, stride, dilation))
    if expected != tuple(int(o) for o in fn.out_hw):
        raise ExportError(f"pooling with output size {tuple(fn.out_hw)} has no exact ONNX form here")
    return dict(kernel_shape=kernel, strides=stride, pads=[top, left, bottom, right]), dilation


def _max_pool(g, fn, names, tensors, out):
    attrs, dilation = _pool_geometry(fn, tensors[0])
    return g.node("MaxPool", names[:1], dilations=dilation, **attrs)


def _avg_pool(g, fn, names, tensors, out):
    attrs, dilation = _pool_geometry(fn, tensors[0])
    if any(d != 1 for d in dilation):
        raise ExportError("average pooling with dilation has no ONNX form")
    # AveragePool counting the padding divides every window by kh·kw: that is the window sum times
    # a constant; shendu's per-position divisor (``scale``) then gives exactly its result.
    y = g.node("AveragePool", names[:1], count_include_pad=1, **attrs)
    window = math.prod(attrs["kernel_shape"])
    scale = np.asarray(fn.scale, dtype=np.float64) * window
    if scale.ndim == 0 and abs(float(scale) - 1.0) < 1e-12:
        return y
    return g.node("Mul", [y, g.const(scale.astype(out._array.dtype), "divisor")])


def _adaptive_avg_pool(g, fn, names, tensors, out):
    dtype = out._array.dtype
    a_h, a_w = np.asarray(fn.a_h, dtype=dtype), np.asarray(fn.a_w, dtype=dtype)
    if a_h.shape[0] == 1 and a_w.shape[0] == 1:
        return g.node("GlobalAveragePool", names[:1])
    rows = g.node("MatMul", [g.const(a_h, "adaptive_rows"), names[0]])
    return g.node("MatMul", [rows, g.const(np.ascontiguousarray(a_w.T), "adaptive_cols")])


def _batch_norm(g, fn, names, tensors, out):
    if fn.training or fn.running_mean is None:
        raise ExportError("BatchNorm using batch statistics (training mode, or track_running_stats=False) has no ONNX form")
    dtype = out._array.dtype
    x = tensors[0]
    channels = x.shape[1]
    params = list(names[1:])
    scale = params[0] if fn.has_weight else _scalar(g, np.ones(channels), dtype, "bn_scale")
    bias = params[-1] if fn.has_bias else _scalar(g, np.zeros(channels), dtype, "bn_bias")
    mean = g.buffer(fn.running_mean, "running_mean")
    var = g.buffer(fn.running_var, "running_var")
    return g.node("BatchNormalization", [names[0], scale, bias, mean, var], epsilon=float(fn.eps))


def _layer_norm(g, fn, names, tensors, out):
    dtype = out._array.dtype
    shape = tuple(tensors[0].shape[tensors[0].ndim - fn.k :])
    params = list(names[1:])
    scale = params[0] if fn.has_weight else _scalar(g, np.ones(shape), dtype, "ln_scale")
    inputs = [names[0], scale]
    if fn.has_bias:
        inputs.append(params[-1])
    return g.node("LayerNormalization", inputs, axis=-int(fn.k), epsilon=float(fn.eps))


def _softmax(op):
    def convert(g, fn, names, tensors, out):
        return g.node(op, names[:1], axis=int(fn.axis))

    return convert


def _leaky_relu(g, fn, names, tensors, out):
    return g.node("LeakyRelu", names[:1], alpha=float(fn.negative_slope))


def _elu(g, fn, names, tensors, out):
    alpha, scale, input_scale = float(fn.alpha), float(fn.scale), float(fn.input_scale)
    if scale == 1.0 and input_scale == 1.0:
        return g.node("Elu", names[:1], alpha=alpha)
    if input_scale == 1.0:
        return g.node("Selu", names[:1], alpha=alpha, gamma=scale)
    if scale == 1.0 and abs(input_scale * alpha - 1.0) < 1e-12:
        return g.node("Celu", names[:1], alpha=alpha)
    raise ExportError(f"ELU with scale={scale}, input_scale={input_scale} has no ONNX form")


def _softplus(g, fn, names, tensors, out):
    dtype = out._array.dtype
    beta, threshold = float(fn.beta), float(fn.threshold)
    x = names[0]
    bx = x if beta == 1.0 else g.node("Mul", [x, _scalar(g, beta, dtype, "beta")])
    y = g.node("Softplus", [bx])
    if beta != 1.0:
        y = g.node("Div", [y, _scalar(g, beta, dtype, "beta")])
    above = g.node("Greater", [bx, _scalar(g, threshold, dtype, "threshold")])
    return g.node("Where", [above, x, y])


def _hardtanh(g, fn, names, tensors, out):
    dtype = out._array.dtype
    return g.node("Clip", [names[0], _scalar(g, fn.min_val, dtype, "min"), _scalar(g, fn.max_val, dtype, "max")])


def _hardsigmoid(g, fn, names, tensors, out):
    return g.node("HardSigmoid", names[:1], alpha=1.0 / 6.0, beta=0.5)


def _mish(g, fn, names, tensors, out):
    return g.node("Mul", [names[0], g.node("Tanh", [g.node("Softplus", names[:1])])])


def _tanhshrink(g, fn, names, tensors, out):
    return g.node("Sub", [names[0], g.node("Tanh", names[:1])])


def _log_sigmoid(g, fn, names, tensors, out):
    return g.node("Neg", [g.node("Softplus", [g.node("Neg", names[:1])])])


def _shrink(g, fn, names, tensors, out):
    soft = type(fn).__name__ == "Softshrink"
    lambd = float(fn.lambd)
    return g.node("Shrink", names[:1], lambd=lambd, bias=lambd if soft else 0.0)


def _threshold(g, fn, names, tensors, out):
    dtype = out._array.dtype
    above = g.node("Greater", [names[0], _scalar(g, fn.threshold, dtype, "threshold")])
    return g.node("Where", [above, names[0], _scalar(g, fn.replacement, dtype, "value")])


def _gelu(g, fn, names, tensors, out):
    dtype = out._array.dtype
    x = names[0]
    if type(fn).__name__ == "GELUTanh":
        cube = g.node("Mul", [g.node("Mul", [x, x]), x])
        inner = g.node("Add", [x, g.node("Mul", [cube, _scalar(g, 0.044715, dtype, "c")])])
        t = g.node("Tanh", [g.node("Mul", [inner, _scalar(g, math.sqrt(2 / math.pi), dtype, "sqrt_2_over_pi")])])
    else:
        t = g.node("Erf", [g.node("Mul", [x, _scalar(g, math.sqrt(0.5), dtype, "sqrt_half")])])
    half_x = g.node("Mul", [x, _scalar(g, 0.5, dtype, "half")])
    return g.node("Mul", [half_x, g.node("Add", [t, _scalar(g, 1.0, dtype, "one")])])


def _swish(g, fn, names, tensors, out):
    x, beta = names[0], _same_dtype(g, names[1:2], tensors[1:2], out._array.dtype)[0]
    return g.node("Mul", [x, g.node("Sigmoid", [g.node("Mul", [x, beta])])])


def _prelu(g, fn, names, tensors, out):
    x, weight = tensors
    if x.ndim >= 2 and weight._array.size > 1:
        slope = g.node("Reshape", [names[1], g.ints([weight._array.size] + [1] * (x.ndim - 2), "slope_shape")])
    else:
        slope = names[1]
    return g.node("PRelu", [names[0], slope])


def _dropout(g, fn, names, tensors, out):
    raise ExportError(
        "dropout ran in training mode (F.dropout(..., training=True) in a forward?); an exported model "
        "runs inference, so use nn.Dropout or training=self.training"
    )


def _op_converters():
    from .ops import (
        activation, arithmetic, conv, dropout, indexing, linalg, normalization, pooling, reduction, shape,
    )  # fmt: skip

    table = {
        arithmetic.Add: _binary("Add"), arithmetic.Sub: _binary("Sub"), arithmetic.Mul: _binary("Mul"),
        arithmetic.Div: _binary("Div"), arithmetic.Neg: _unary("Neg"), arithmetic.Exp: _unary("Exp"),
        arithmetic.Log: _unary("Log"), arithmetic.Sqrt: _unary("Sqrt"), arithmetic.Abs: _unary("Abs"),
        arithmetic.Sin: _unary("Sin"), arithmetic.Cos: _unary("Cos"), arithmetic.PowScalar: _pow_scalar,
        arithmetic.Pow: _binary("Pow"), arithmetic.Log1p: _log1p, arithmetic.Expm1: _expm1,
        arithmetic.Clamp: _clamp, arithmetic.Maximum: _maximum, arithmetic.Where: _where, arithmetic.Cast: _cast,
        arithmetic.Clone: _identity, linalg.Linear: _linear, linalg.MatMul: _matmul, shape.Reshape: _reshape,
        shape.Permute: _permute, shape.Flip: _flip, shape.Concatenate: _concat, shape.Split: _split, shape.Pad: _pad,
        reduction.Sum: _sum, reduction.Mean: _mean, reduction.MaxReduce: _max_reduce,
        reduction.BroadcastTo: _broadcast_to, indexing.Index: _index, conv.Conv2d: _conv2d,
        pooling.MaxPool2d: _max_pool, pooling.AvgPool2d: _avg_pool, pooling.AdaptiveAvgPool2d: _adaptive_avg_pool,
        normalization.BatchNorm: _batch_norm, normalization.LayerNorm: _layer_norm,
        activation.Sigmoid: _unary("Sigmoid"), activation.Tanh: _unary("Tanh"), activation.ReLU: _unary("Relu"),
        activation.Softmax: _softmax("Softmax"), activation.LogSoftmax: _softmax("LogSoftmax"),
        activation.LeakyReLU: _leaky_relu, activation.ELU: _elu, activation.Softplus: _softplus,
        activation.Hardtanh: _hardtanh, activation.Hardsigmoid: _hardsigmoid,
        activation.Hardswish: _unary("HardSwish"), activation.Mish: _mish, activation.Tanhshrink: _tanhshrink,
        activation.Softsign: _unary("Softsign"), activation.LogSigmoid: _log_sigmoid,
        activation.Hardshrink: _shrink, activation.Softshrink: _shrink, activation.Threshold: _threshold,
        activation.GELU: _gelu, activation.GELUTanh: _gelu, activation.Swish: _swish, activation.PReLU: _prelu,
        dropout.Dropout: _dropout,
    }  # fmt: skip
    return table


# ----- layer converters: layers whose ops do not carry enough (or are better whole) ----------------
def _embedding(g, module, names, tensors, outputs):
    if module.max_norm is not None:
        raise ExportError("Embedding with max_norm rescales its weight while it runs; that has no ONNX form")
    weight = g.param(module.weight)
    indices = names[0]
    if tensors[0]._array.dtype.kind not in "iu":
        indices = g.node("Cast", [indices], to=_elem_type(g.onnx, np.int64))
    return {id(outputs): g.node("Gather", [weight, indices], axis=0, hint="embedding")}


_GATE_ORDER = {"LSTM": (0, 3, 1, 2), "GRU": (1, 0, 2), "RNN_TANH": (0,), "RNN_RELU": (0,)}


def _gates(array, mode):
    """Reorder the stacked gates of a shendu/PyTorch weight into ONNX's order (LSTM i,f,g,o → i,o,f,c)."""
    chunks = np.split(np.asarray(array), len(_GATE_ORDER[mode]), axis=0)
    return np.concatenate([chunks[i] for i in _GATE_ORDER[mode]], axis=0)


def _recurrent(g, module, names, tensors, outputs, hx_names):
    mode = module.mode
    op = {"LSTM": "LSTM", "GRU": "GRU"}.get(mode, "RNN")
    hidden, directions = module.hidden_size, 2 if module.bidirectional else 1
    x, batched = names[0], tensors[0].ndim == 3
    if not batched:  # (L, F) → (L, 1, F)
        x = g.node("Unsqueeze", [x, g.ints([1], "axes")])
    elif module.batch_first:
        x = g.node("Transpose", [x], perm=[1, 0, 2])
    if hx_names is not None and not batched:
        hx_names = [g.node("Unsqueeze", [h, g.ints([1], "axes")]) for h in hx_names]
    dtype = module.weight_hh_l0._array.dtype
    finals = [[] for _ in range(2 if op == "LSTM" else 1)]
    for layer in range(module.num_layers):
        w, r, b = [], [], []
        for direction in range(directions):
            params = module._layer_params(layer, direction)
            w.append(_gates(params[0]._array, mode))
            r.append(_gates(params[1]._array, mode))
            if module.bias:
                b.append(np.concatenate([_gates(params[2]._array, mode), _gates(params[3]._array, mode)]))
            else:
                b.append(np.zeros(2 * w[-1].shape[0], dtype))
        suffix = f"l{layer}"
        inputs = [x, g.const(np.stack(w), f"{op}_W_{suffix}"), g.const(np.stack(r), f"{op}_R_{suffix}"),
                  g.const(np.stack(b), f"{op}_B_{suffix}"), ""]  # fmt: skip
        if hx_names is not None:
            k = layer * directions
            for h in hx_names:
                inputs.append(g.node("Slice", [h, g.ints([k], "starts"), g.ints([k + directions], "ends"), g.ints([0], "axes")]))
        attrs = {"hidden_size": hidden, "direction": "bidirectional" if directions == 2 else "forward"}
        if op == "GRU":
            attrs["linear_before_reset"] = 1
        if op == "RNN":
            attrs["activations"] = ["Tanh" if mode == "RNN_TANH" else "Relu"] * directions
        results = g.node(op, inputs, outputs=3 if op == "LSTM" else 2, hint=f"{op.lower()}_{suffix}", **attrs)
        y = results[0]  # (T, D, N, H) → (T, N, D·H)
        y = g.node("Transpose", [y], perm=[0, 2, 1, 3])
        x = g.node("Reshape", [y, g.ints([0, 0, -1], "shape")])
        for store, value in zip(finals, results[1:]):
            store.append(value)
    if not batched:
        x = g.node("Squeeze", [x, g.ints([1], "axes")])
    elif module.batch_first:
        x = g.node("Transpose", [x], perm=[1, 0, 2])
    states = []
    for store in finals:
        h = store[0] if len(store) == 1 else g.node("Concat", store, axis=0)
        if not batched:
            h = g.node("Squeeze", [h, g.ints([1], "axes")])
        states.append(h)
    output, state = outputs
    mapping = {id(output): g.node("Identity", [x], hint="rnn_output")}
    if op == "LSTM":
        mapping[id(state[0])] = g.node("Identity", [states[0]], hint="h_n")
        mapping[id(state[1])] = g.node("Identity", [states[1]], hint="c_n")
    else:
        mapping[id(state)] = g.node("Identity", [states[0]], hint="h_n")
    return mapping


def _layer_converters():
    from .nn import GRU, LSTM, RNN, Embedding

    return {Embedding: _embedding, RNN: _recurrent, LSTM: _recurrent, GRU: _recurrent}


_UNSUPPORTED_LAYERS = ("RNNCell", "LSTMCell", "GRUCell", "GroupNorm")


# ----- tracing -----------------------------------------------------------------------------------
def _flat_tensors(value):
    from .tensor import Tensor

    if isinstance(value, Tensor):
        return [value]
    if isinstance(value, (tuple, list)):
        return [t for item in value for t in _flat_tensors(item)]
    if isinstance(value, dict):
        return [t for item in value.values() for t in _flat_tensors(item)]
    return []


class _Record:
    """A call of a layer converted whole: its module, tensor arguments and outputs."""

    def __init__(self, module, path, args, kwargs, output):
        self.module, self.path, self.args, self.kwargs, self.output = module, path, args, kwargs, output
        self.inputs = _flat_tensors(args) + _flat_tensors(kwargs)


class _Tracer:
    """Runs the model once, recording whole-layer calls and which layer each op came from."""

    def __init__(self, model, layer_converters):
        self.model, self.layer_converters = model, layer_converters
        self.records = {}  # id(output tensor) -> _Record
        self.owner = {}  # id(Function) -> "path (Class)"
        self._depth = 0
        self._patched = []

    def __enter__(self):
        for path, module in self.model.named_modules():
            object.__setattr__(module, "forward", self._wrap(module, path or "<model>"))
            self._patched.append(module)
        return self

    def __exit__(self, *exc):
        for module in self._patched:
            module.__dict__.pop("forward", None)
        return False

    def _wrap(self, module, path):
        forward = type(module).forward.__get__(module)
        whole = type(module) in self.layer_converters
        label = f"'{path}' ({type(module).__name__})"

        def traced(*args, **kwargs):
            output = forward(*args, **kwargs)
            inputs = {id(t) for t in _flat_tensors(args) + _flat_tensors(kwargs)}
            if whole:
                record = _Record(module, path, args, kwargs, output)
                for t in _flat_tensors(output):
                    if id(t) not in inputs:
                        self.records[id(t)] = record
            self._attribute(_flat_tensors(output), inputs, label)
            return output

        return traced

    def _attribute(self, outputs, stop, label):
        """Name the layer that created each not-yet-named op between this call's inputs and outputs."""
        stack, seen = list(outputs), set()
        while stack:
            t = stack.pop()
            if id(t) in stop or id(t) in seen:
                continue
            seen.add(id(t))
            fn = t._creator
            if fn is None or id(fn) in seen:
                continue
            seen.add(id(fn))
            self.owner.setdefault(id(fn), label)  # inner layers ran (and named their ops) first
            stack.extend(getattr(fn, "inputs", ()))


def _check_layers(model):
    bad = [f"'{path}' ({type(m).__name__})" for path, m in model.named_modules() if type(m).__name__ in _UNSUPPORTED_LAYERS
           and type(m).__module__.startswith("shendu.")]  # fmt: skip
    if bad:
        raise ExportError(
            f"ONNX export does not support the layer(s) {', '.join(bad)}. Supported: Linear, Conv1d/2d, pools, "
            "Flatten, Dropout, BatchNorm1d/2d, LayerNorm, Embedding, RNN/LSTM/GRU, activations and Softmax"
        )


def _as_inputs(sample_input):
    from .tensor import Tensor

    items = sample_input if isinstance(sample_input, (tuple, list)) else (sample_input,)
    tensors = []
    for index, item in enumerate(items):
        array = item._array if isinstance(item, Tensor) else np.asarray(item)
        if array.dtype.kind not in "fiub":
            raise TypeError(f"export: sample_input[{index}] must be numbers; got dtype {array.dtype}")
        if array.dtype == np.float64 and not isinstance(item, Tensor) and not isinstance(item, np.ndarray):
            array = array.astype(np.float32)
        t = Tensor(np.array(array))
        if array.dtype.kind == "f":
            t.requires_grad_(True)  # so ops applied straight to the input are recorded too
        tensors.append(t)
    return tensors


def export(model, sample_input, path=None, *, opset=DEFAULT_OPSET, input_names=None, output_names=None,
           dynamic_batch=True, check=True, doc_string=None):  # fmt: skip
    """Export ``model`` to ONNX by running it once on ``sample_input``.

    Args:
        model: a :class:`shendu.nn.Module` (exported in eval mode; its modes are restored afterwards).
        sample_input: a Tensor or array (integer token ids for an Embedding-first model), or a tuple
            of them for several inputs. Its batch size should differ from the model's other sizes.
        path: write the ``.onnx`` file here (atomically). Defaults to None (only return it).
        opset: the ONNX opset. Defaults to 17.
        input_names, output_names: names in the graph. Defaults to ``input``/``output`` (numbered
            when there are several).
        dynamic_batch: make dim 0 of every input symbolic. Defaults to True.
        check: run ``onnx.checker.check_model(full_check=True)``. Defaults to True.
        doc_string: stored in the model. Defaults to the model's class name.

    Returns:
        the ``onnx.ModelProto``.

    Raises:
        ExportError: a layer or op has no ONNX form (the message names the layer and the op).
        ImportError: the ``onnx`` package is missing (``pip install 'shendu[onnx]'``).
    """
    onnx = _require_onnx()
    from .autograd import enable_grad, no_grad
    from .nn.module import Module

    if not isinstance(model, Module):
        raise TypeError(f"export expects a shendu.nn.Module; got {type(model).__name__}")
    if not isinstance(opset, int) or not 17 <= opset <= 22:
        raise ValueError(f"export: opset must be an int from 17 to 22. Received: opset={opset!r}")
    _check_layers(model)
    inputs = _as_inputs(sample_input)
    input_names = list(input_names) if input_names else (["input"] if len(inputs) == 1 else [f"input_{i}" for i in range(len(inputs))])
    if len(input_names) != len(inputs):
        raise ValueError(f"export: {len(input_names)} input_names for {len(inputs)} inputs")
    layer_converters = _layer_converters()
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        with no_grad():  # a first call builds layers that create their weights lazily (the Keras dialect)
            model(*inputs)
        with _Tracer(model, layer_converters) as tracer, enable_grad():
            output = model(*inputs)
    finally:
        for module, training in modes:
            object.__setattr__(module, "training", training)
    outputs = _flat_tensors(output)
    if not outputs:
        raise ExportError(f"the model returned {type(output).__name__}, not tensors")
    output_names = list(output_names) if output_names else (["output"] if len(outputs) == 1 else [f"output_{i}" for i in range(len(outputs))])
    if len(output_names) != len(outputs):
        raise ValueError(f"export: {len(output_names)} output_names for {len(outputs)} outputs")

    batch = int(inputs[0].shape[0]) if dynamic_batch and inputs[0].ndim >= 1 else None
    g = _Graph(onnx, opset, batch)
    builder = _Builder(g, model, tracer, inputs, input_names, layer_converters)
    final = [builder.emit(t) for t in outputs]
    for name, target in zip(output_names, final):
        g._taken.add(name)
        g.nodes.append(onnx.helper.make_node("Identity", [target], [name], name=g.fresh("output_node")))

    def info(name, t, symbolic):
        dims = [("batch" if symbolic and i == 0 else int(n)) for i, n in enumerate(t.shape)]
        return onnx.helper.make_tensor_value_info(name, _elem_type(onnx, t._array.dtype), dims)

    graph_inputs = [info(n, t, dynamic_batch and t.ndim >= 1) for n, t in zip(input_names, inputs)]
    graph_outputs = [
        info(n, t, dynamic_batch and t.ndim >= 1 and batch is not None and t.shape[0] == batch)
        for n, t in zip(output_names, outputs)
    ]
    graph = onnx.helper.make_graph(g.nodes, type(model).__name__, graph_inputs, graph_outputs, g.initializers)
    from . import __version__

    proto = onnx.helper.make_model(
        graph, opset_imports=[onnx.helper.make_opsetid("", opset)], producer_name="shendu",
        producer_version=__version__, doc_string=doc_string or f"shendu {type(model).__name__}",
    )  # fmt: skip
    proto.ir_version = _IR_VERSION
    if check:
        onnx.checker.check_model(proto, full_check=True)
    if path is not None:
        from .io.atomic import atomic_write

        atomic_write(os.fspath(path), proto.SerializeToString())
    return proto


class _Builder:
    """Walks the traced graph from the outputs back to the inputs and emits ONNX nodes, inputs first."""

    def __init__(self, g, model, tracer, inputs, input_names, layer_converters):
        self.g, self.tracer, self.layer_converters = g, tracer, layer_converters
        self.op_converters = _op_converters()
        self.names = {id(t): name for t, name in zip(inputs, input_names)}
        for name in input_names:
            g._taken.add(name)
        self.inputs = inputs
        self.params = {}
        for name, p in model.named_parameters():
            self.params.setdefault(id(p), name)
        self.buffers = {}
        for name, b in model.named_buffers():
            if b is not None:
                self.params.setdefault(id(b), name)
                self.buffers.setdefault(id(b._array), name)
        self._param_names = {}
        self._done = set()
        g.param = self.param
        g.buffer = self.buffer

    def param(self, tensor):
        key = id(tensor)
        if key not in self._param_names:
            self._param_names[key] = self.g.const(tensor._array, self.params.get(key, "param"))
        return self._param_names[key]

    def buffer(self, value, hint):
        """A running statistic (a registered buffer, named by its state_dict key, or an array)."""
        if hasattr(value, "_array"):
            return self.param(value)
        key = ("buffer", id(value))
        if key not in self._param_names:
            self._param_names[key] = self.g.const(np.asarray(value), self.buffers.get(id(value), hint))
        return self._param_names[key]

    def _dependencies(self, t):
        if id(t) in self.names:
            return []
        record = self.tracer.records.get(id(t))
        if record is not None:
            return record.inputs
        if id(t) in self.params or t._creator is None:
            return []
        return list(t._creator.inputs)

    def emit(self, root):
        """Name of ``root`` in the graph, emitting everything it depends on (iteratively: no recursion limit)."""
        stack = [(root, False)]
        while stack:
            t, expanded = stack.pop()
            if id(t) in self.names:
                continue
            if expanded:
                self._convert(t)
                continue
            stack.append((t, True))
            for dep in self._dependencies(t):
                if id(dep) not in self.names:
                    stack.append((dep, False))
        return self.names[id(root)]

    def _convert(self, t):
        g = self.g
        record = self.tracer.records.get(id(t))
        if record is not None:
            if id(record) in self._done:
                return
            self._done.add(id(record))
            self._convert_layer(record)
            return
        if id(t) in self.params:
            self.names[id(t)] = self.param(t)
            return
        fn = t._creator
        if fn is None:
            self.names[id(t)] = self._constant(t)
            return
        convert = self.op_converters.get(type(fn))
        if convert is None:
            where = self.tracer.owner.get(id(fn))
            raise ExportError(
                f"ONNX export does not support the op {type(fn).__name__}"
                + (f" in layer {where}" if where else " (called in the model's forward)")
                + "; supported layers: Linear, Conv1d/2d, pools, Flatten, Dropout, BatchNorm, LayerNorm, Embedding, "
                "RNN/LSTM/GRU, activations, Softmax, and reshape/index/cat/arithmetic glue"
            )
        in_names = [self.names[id(x)] for x in fn.inputs]
        outs = [ref() for ref in fn.outputs] if len(fn.outputs) > 1 else [t]
        try:
            result = convert(g, fn, in_names, list(fn.inputs), t)
        except ExportError as error:
            where = self.tracer.owner.get(id(fn))
            raise ExportError(f"{error}" + (f" (op {type(fn).__name__} in layer {where})" if where else "")) from None
        if isinstance(result, list):
            for out, name in zip(outs, result):
                if out is not None:
                    self.names[id(out)] = name
        else:
            self.names[id(t)] = result

    def _convert_layer(self, record):
        module = record.module
        names = [self.names[id(x)] for x in record.inputs]
        if type(module).__name__ in ("RNN", "LSTM", "GRU"):
            hx = record.args[1] if len(record.args) > 1 else record.kwargs.get("hx")
            hx_tensors = _flat_tensors(hx) if hx is not None else None
            hx_names = [self.names[id(h)] for h in hx_tensors] if hx_tensors else None
            mapping = _recurrent(self.g, module, names, record.inputs, record.output, hx_names)
        else:
            mapping = self.layer_converters[type(module)](self.g, module, names, record.inputs, record.output)
        self.names.update(mapping)

    def _constant(self, t):
        array = t._array
        batch = self.g.batch_size
        if batch is not None and batch > 1 and array.ndim >= 1 and array.size > 1 and array.shape[0] == batch:
            raise ExportError(
                f"a tensor of shape {tuple(array.shape)} enters the graph as a constant but has the batch size; it was "
                "probably computed from the input outside the traced ops (e.g. with .numpy() or under no_grad)"
            )
        return self.g.const(array, "const")


# ----- running an exported model --------------------------------------------------------------------
def run(model, *inputs):
    """Run an ONNX model (a path, bytes or ``ModelProto``) with onnxruntime on the CPU; returns a list of arrays."""
    try:
        import onnxruntime
    except ImportError:
        raise ImportError("running ONNX models needs 'onnxruntime': pip install 'shendu[onnx]'") from None
    if hasattr(model, "SerializeToString"):
        model = model.SerializeToString()
    elif not isinstance(model, (bytes, bytearray)):
        model = os.fspath(model)
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    session = onnxruntime.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    feeds = {}
    for meta, value in zip(session.get_inputs(), inputs):
        array = value._array if hasattr(value, "_array") else np.asarray(value)
        feeds[meta.name] = array
    return session.run(None, feeds)

