"""The Keras ``Layer`` contract on top of :class:`shendu.nn.Module`, and the symbolic graph of ``Input``.

A Keras layer here *is* an ``nn.Module`` whose weights live in the PyTorch-dialect layer it wraps
(Dense holds an ``nn.Linear``, Conv2D an ``nn.Conv2d``, ...). What this module adds is Keras'
conventions:

- lazy building: ``build(input_shape)`` creates the wrapped layer once the input shape is known
  (from ``input_shape=``, from ``Input``, or from the first batch);
- names (``dense``, ``dense_1``, ...), ``trainable``, ``weights`` / ``get_weights`` /
  ``set_weights`` in Keras' layouts, ``get_config`` as plain data;
- symbolic calls: ``Input(shape=...)`` returns a :class:`KerasTensor`; calling a layer on one
  records a :class:`Node` and returns new KerasTensors with the inferred shapes, which is how
  functional models (``Model(inputs, outputs)``) are described;
- input checking with Keras' messages (``Input 0 of layer "dense" is incompatible with the layer:
  ...``), so a wrong shape is reported at the layer, not deep inside NumPy.
"""

import inspect
import math

import numpy as np

from ... import _dtype
from ...autograd import no_grad
from ...nn.module import Module
from ...nn.parameter import Parameter
from ...tensor import Tensor
from .. import activations, initializers
from ..variables import Variable
from ..backend import snake_case, unique_name

__all__ = ["Layer", "KerasTensor", "Node", "InputLayer", "Input", "format_shape"]


_CALL_DEPTH = [0]  # layers being called (the outermost one clears the add_loss terms)
_KERAS_NAMES = {"weight_ih_l0": "kernel", "weight_hh_l0": "recurrent_kernel", "bias_ih_l0": "bias",
                "running_mean": "moving_mean", "running_var": "moving_variance"}  # fmt: skip


def _keras_weight_name(layer, attribute):
    """Keras' name for the weight that shendu keeps at ``attribute`` of ``layer`` (``linear.weight`` → ``kernel``)."""
    leaf = attribute.split(".")[-1]
    if leaf in _KERAS_NAMES:
        return _KERAS_NAMES[leaf]
    kind = type(layer).__name__
    if leaf == "weight":
        if "BatchNormalization" in kind or "LayerNormalization" in kind:
            return "gamma"
        if kind == "Embedding":
            return "embeddings"
        if attribute.startswith("pointwise"):
            return "pointwise_kernel"
        return "depthwise_kernel" if "Depthwise" in kind or "Separable" in kind else "kernel"
    if leaf == "bias" and ("BatchNormalization" in kind or "LayerNormalization" in kind):
        return "beta"
    return leaf


class WeightView:
    """A built-in layer's weight seen as a Keras Variable, over the shendu parameter that holds it.

    ``numpy()``, ``shape`` and ``assign`` use Keras' layout (a Dense kernel is (in, out), shendu's
    ``nn.Linear`` keeps (out, in)); ``value`` is the parameter itself.
    """

    def __init__(self, tensor, to_keras, from_keras, name, layer_name) -> None:
        self.value, self._to_keras, self._from_keras = tensor, to_keras, from_keras
        self.name, self.path = name, f"{layer_name}/{name}"

    def numpy(self):
        array = self._to_keras(self.value) if self._to_keras is not None else self.value._array
        return np.array(array, copy=True)

    def __array__(self, dtype=None, copy=None):
        array = self.numpy()
        return array if dtype is None else array.astype(dtype)

    @property
    def shape(self):
        return tuple(np.shape(self._to_keras(self.value))) if self._to_keras is not None else tuple(self.value.shape)

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def dtype(self):
        return self.value._array.dtype.name

    @property
    def trainable(self):
        return bool(self.value.requires_grad)

    def assign(self, value):
        array = np.asarray(value._array if isinstance(value, Tensor) else value)
        if tuple(array.shape) != self.shape:
            raise ValueError(f"Variable {self.path!r}: cannot assign a value of shape {array.shape} to a variable of "
                             f"shape {self.shape}")  # fmt: skip
        with no_grad():
            if self._from_keras is not None:
                self._from_keras(self.value, array)
            else:
                self.value._array[...] = array.astype(self.value._array.dtype, copy=False)
        return self

    def assign_add(self, delta):
        return self.assign(self.numpy() + np.asarray(delta))

    def assign_sub(self, delta):
        return self.assign(self.numpy() - np.asarray(delta))

    def __repr__(self):
        return f"<Variable path={self.path}, shape={self.shape}, dtype={self.dtype}>"


# ----- shapes ------------------------------------------------------------------------------
def format_shape(shape):
    """``(None, 28, 28, 1)``; a list of shapes prints as a list."""
    if isinstance(shape, list):
        return "[" + ", ".join(format_shape(s) for s in shape) + "]"
    if shape is None:
        return "?"
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def _batch_shape(shape, what):
    """A shape given by the user (without the batch axis) as a tuple of ints/None."""
    if isinstance(shape, (int, np.integer)):
        shape = (int(shape),)
    if not isinstance(shape, (tuple, list)):
        raise TypeError(f"{what} must be a tuple of ints (without the batch axis). Received: {what}={shape!r}")
    out = []
    for d in shape:
        if d is not None and (isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 0):
            raise ValueError(f"{what} must hold non-negative ints or None. Received: {what}={tuple(shape)!r}")
        out.append(None if d is None else int(d))
    return tuple(out)


def _flatten(structure):
    if isinstance(structure, (list, tuple)):
        return [x for item in structure for x in _flatten(item)]
    return [structure]


def _is_symbolic(inputs):
    return any(isinstance(x, KerasTensor) for x in _flatten(inputs))


def _call_parameters(layer):
    """The names of ``layer.call``'s parameters, read once per class (``Layer.__call__`` asks on every call)."""
    klass = type(layer)
    names = klass.__dict__.get("_call_parameter_names")
    if names is None:
        names = frozenset(inspect.signature(layer.call).parameters)
        klass._call_parameter_names = names
    return names


def _mask_of(inputs):
    """The Keras mask carried by a tensor (a list of masks for a list of tensors, None when there is none)."""
    if isinstance(inputs, (list, tuple)):
        masks = [getattr(t, "_keras_mask", None) for t in inputs]
        return masks if any(m is not None for m in masks) else None
    return getattr(inputs, "_keras_mask", None)


def _shape_of(value):
    if isinstance(value, (list, tuple)):
        return [_shape_of(v) for v in value]
    return (None,) + tuple(int(d) for d in value.shape[1:])


def _dry_run_shape(layer, input_shape, run=None, dtypes=None):
    """The output shape of ``layer`` found by running it (or ``run``) on one zero sample, in inference mode."""
    shapes = input_shape if isinstance(input_shape, list) else [input_shape]
    dtypes = dtypes or ["float32"] * len(shapes)
    dummies = [Tensor(np.zeros(tuple(1 if d is None else d for d in s), np.dtype(t))) for s, t in zip(shapes, dtypes)]
    saved = [(m, m.training) for m in layer.modules()]
    layer.eval()
    try:
        with no_grad():
            out = (run or layer)(dummies if isinstance(input_shape, list) else dummies[0])
    finally:
        for module, mode in saved:
            object.__setattr__(module, "training", mode)
    if isinstance(out, (list, tuple)):
        return [(None,) + tuple(o.shape[1:]) for o in out]
    return (None,) + tuple(out.shape[1:])


# ----- symbolic tensors --------------------------------------------------------------------
class KerasTensor:
    """A symbolic tensor: the shape (batch axis ``None``) and dtype of a value a model will compute.

    Returned by :func:`Input` and by layers called on KerasTensors; it remembers the
    :class:`Node` that produces it, so ``Model(inputs, outputs)`` can trace the graph.
    """

    def __init__(self, shape, dtype="float32", name=None, node=None, index=0) -> None:
        self.shape = tuple(shape)
        self.dtype = dtype
        self.name = name
        self.node = node
        self.index = index

    @property
    def ndim(self):
        return len(self.shape)

    def __repr__(self):
        return f"<KerasTensor shape={format_shape(self.shape)}, dtype={self.dtype}, name={self.name}>"

    def __array__(self, *args, **kwargs):
        raise TypeError(
            "A KerasTensor is symbolic: it has a shape but no values. Use it to build a Model "
            "(keras.Model(inputs, outputs)) and call the model on arrays."
        )

    # Arithmetic on symbolic tensors records an operation in the graph (``x + attention``, ``x[:, -1]``).
    def _operation(self, op, other=None, reverse=False):
        from .operations import TensorOperation

        return TensorOperation.record(op, self, other, reverse)

    def __add__(self, other):
        return self._operation("add", other)

    def __radd__(self, other):
        return self._operation("add", other, reverse=True)

    def __sub__(self, other):
        return self._operation("subtract", other)

    def __rsub__(self, other):
        return self._operation("subtract", other, reverse=True)

    def __mul__(self, other):
        return self._operation("multiply", other)

    def __rmul__(self, other):
        return self._operation("multiply", other, reverse=True)

    def __truediv__(self, other):
        return self._operation("divide", other)

    def __rtruediv__(self, other):
        return self._operation("divide", other, reverse=True)

    def __matmul__(self, other):
        return self._operation("matmul", other)

    def __rmatmul__(self, other):
        return self._operation("matmul", other, reverse=True)

    def __pow__(self, other):
        return self._operation("power", other)

    def __neg__(self):
        return self._operation("negative")

    def __getitem__(self, key):
        return self._operation("getitem", key)


class Node:
    """One call of a layer on symbolic inputs: ``outputs = layer(inputs)``."""

    def __init__(self, layer, inputs, as_list, kwargs, outputs, n_main=None, kw_layout=None) -> None:
        self.layer, self.inputs, self.as_list, self.kwargs, self.outputs = layer, inputs, as_list, kwargs, outputs
        self.n_main = len(inputs) if n_main is None else n_main
        self.kw_layout = kw_layout or {}  # keyword argument -> (start, count, is_list) in ``inputs``

    def call_arguments(self, values):
        """``(inputs, kwargs)`` for calling the layer, given the values of ``self.inputs`` in order."""
        main = values[: self.n_main]
        kwargs = dict(self.kwargs)
        for key, (start, count, is_list) in self.kw_layout.items():
            kwargs[key] = list(values[start : start + count]) if is_list else values[start]
        return (list(main) if self.as_list else main[0]), kwargs


# ----- the layer ---------------------------------------------------------------------------
class Layer(Module):
    """Base class of Keras layers: a ``shendu.nn.Module`` with Keras' building, naming and weights.

    Subclasses create their weights in ``build(input_shape)`` (usually by wrapping a
    ``shendu.nn`` layer) and compute in ``call(inputs)``. A user's own layer works the same way,
    with ``self.add_weight(...)`` for raw weights.

    Args:
        trainable: whether the weights are updated by ``fit``. Defaults to True.
        name: the layer's name. Defaults to the class name in snake case, made unique (``dense_1``).
        dtype: ``"float32"`` or ``"float64"`` for the weights. Defaults to float32.
        input_shape: the shape of one sample (no batch axis), for the first layer of a Sequential.
        batch_size: the fixed batch size, if any. Defaults to None.
        input_dim: ``input_shape=(input_dim,)`` (Keras 1 spelling).
        weights: initial weights in Keras' layout, applied with ``set_weights`` once built.

    Example:
        >>> class Scale(keras.layers.Layer):
        ...     def build(self, input_shape):
        ...         self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones")
        ...     def call(self, x):
        ...         return x * self.w
    """

    _accepts_integers = False  # Embedding takes token ids; every other layer casts integer input to float

    def __init__(self, trainable: bool = True, name=None, dtype=None, input_shape=None, batch_input_shape=None,
                 batch_size=None, input_dim=None, weights=None, **kwargs) -> None:  # fmt: skip
        super().__init__()
        if kwargs:
            raise TypeError(f"Unrecognized keyword arguments passed to {type(self).__name__}: {kwargs}")
        if name is not None and (not isinstance(name, str) or not name):
            raise ValueError(f"{type(self).__name__}: name must be a non-empty string. Received: name={name!r}")
        self.name = name or unique_name(snake_case(type(self).__name__))
        self._trainable = bool(trainable)
        self._dtype_name = _check_dtype(type(self).__name__, dtype)
        self.built = False
        self._build_input_shape = None
        self._input_spec = None
        self._inbound_nodes: list = []
        self._initial_weights = None if weights is None else list(weights)
        self._capture_pre_activation = False
        self._fixed: set[str] = set()  # names of parameters that never train (e.g. LSTM's second bias)
        self._frozen: set[str] = set()  # names of Keras weights made with add_weight(trainable=False)
        # Keras layers run in inference mode unless training (fit switches them to training mode).
        object.__setattr__(self, "training", False)
        if batch_input_shape is not None:
            self._batch_input_shape = (None,) + _batch_shape(tuple(batch_input_shape)[1:], "batch_input_shape")
        elif input_shape is not None:
            self._batch_input_shape = (batch_size,) + _batch_shape(input_shape, "input_shape")
        elif input_dim is not None:
            self._batch_input_shape = (batch_size,) + _batch_shape((input_dim,), "input_dim")
        else:
            self._batch_input_shape = None

    # ----- properties ------------------------------------------------------------------------
    @property
    def dtype(self):
        return self._dtype_name

    @property
    def _numpy_dtype(self):
        return np.dtype(self._dtype_name)

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        self._trainable = bool(value)
        self._apply_trainable()

    def _apply_trainable(self, parent_trainable=True):
        """Set ``requires_grad`` of the layer's weights; a frozen model freezes every layer inside it."""
        effective = parent_trainable and self._trainable
        for name, param in self._own_named_parameters():
            param.requires_grad_(effective and name not in self._fixed and name not in self._frozen)
        for child in self._child_layers():
            child._apply_trainable(effective)

    def _own_named(self, table):
        """``(name, tensor)`` of this layer's ``_parameters`` or ``_buffers`` and of the plain nn modules it wraps
        (not of nested Keras layers)."""
        out = [(n, t) for n, t in getattr(self, table).items() if t is not None]
        stack = [(n, m) for n, m in self._modules.items() if m is not None and not isinstance(m, Layer)]
        while stack:
            prefix, module = stack.pop(0)
            out += [(f"{prefix}.{n}", t) for n, t in getattr(module, table).items() if t is not None]
            stack += [(f"{prefix}.{n}", m) for n, m in module._modules.items() if m is not None and not isinstance(m, Layer)]
        return out

    def _own_named_parameters(self):
        return self._own_named("_parameters")

    def _own_named_buffers(self):
        return self._own_named("_buffers")

    def _child_layers(self):
        """The Keras layers directly inside this one (found through plain containers too)."""
        found, stack = [], [m for m in self._modules.values() if m is not None]
        while stack:
            module = stack.pop(0)
            if isinstance(module, Layer):
                found.append(module)
            else:
                stack += [m for m in module._modules.values() if m is not None]
        return found

    @property
    def input_shape(self):
        """The batch input shape the layer was built for (``None`` for the batch axis)."""
        if self._build_input_shape is None:
            raise AttributeError(f'The layer "{self.name}" has never been called and thus has no defined input shape.')
        return self._build_input_shape

    @property
    def output(self):
        """The symbolic output of the layer's first call on symbolic inputs (a KerasTensor)."""
        if not self._inbound_nodes:
            raise AttributeError(f'Layer "{self.name}" has never been called on symbolic inputs and thus has no output')
        outputs = self._inbound_nodes[0].outputs
        return outputs[0] if len(outputs) == 1 else list(outputs)

    @property
    def input(self):
        """The symbolic input of the layer's first call on symbolic inputs."""
        if not self._inbound_nodes:
            raise AttributeError(f'Layer "{self.name}" has never been called on symbolic inputs and thus has no input')
        node = self._inbound_nodes[0]
        if not node.inputs:
            return node.outputs[0]
        return list(node.inputs[: node.n_main]) if node.as_list else node.inputs[0]

    @property
    def output_shape(self):
        """The batch output shape for the input shape the layer was built for."""
        return self.compute_output_shape(self.input_shape)

    # ----- weights ---------------------------------------------------------------------------
    def add_weight(self, shape=None, initializer="glorot_uniform", dtype=None, trainable=True, name=None, **kwargs):
        """Create a weight (a Parameter) in Keras' layout and register it on the layer.

        Args:
            shape: the weight's shape, e.g. ``(in, out)`` for a kernel. Defaults to a scalar.
            initializer: a name or an initialiser; fans are read in Keras' layout
                (``(..., in, out)``). Defaults to "glorot_uniform".
            dtype: defaults to the layer's dtype.
            trainable: whether ``fit`` updates it. Defaults to True.
            name: the attribute name. Defaults to ``weight``, ``weight_1``, ...
        """
        shape = () if shape is None else tuple(int(d) for d in shape)
        array = np.zeros(shape, np.dtype(dtype) if dtype is not None else self._numpy_dtype)
        fill = initializers.get(initializer or "glorot_uniform")
        # NOTE: shendu's initialisers read fans in PyTorch's layout (out, in, *kernel); a Keras kernel
        # (*kernel, in, out) is that layout transposed, so fill a transposed view of it.
        view = array if array.ndim < 2 else np.transpose(array, (array.ndim - 1, array.ndim - 2, *range(array.ndim - 2)))
        fill(view)
        param = Variable(array, trainable=trainable, name=name or "variable")
        param.requires_grad_(bool(trainable) and self._trainable and array.dtype.kind == "f")
        param.path = f"{self.name}/{param.name}"
        attribute = name or "weight"
        base, index = attribute, 1
        while attribute in self._parameters or attribute in self.__dict__:
            attribute, index = f"{base}_{index}", index + 1
        setattr(self, attribute, param)
        if not trainable:
            self._frozen.add(attribute)
        if name is None:  # ``self.w = self.add_weight(...)`` then moves it to "w" (see __setattr__)
            self.__dict__.setdefault("_unnamed_weights", {})[id(param)] = attribute
        return param

    def __setattr__(self, name, value):
        unnamed = self.__dict__.get("_unnamed_weights")
        if unnamed and isinstance(value, Parameter) and id(value) in unnamed:
            # one weight, one name (Keras counts it once): drop the placeholder name add_weight gave it
            placeholder = unnamed.pop(id(value))
            if placeholder != name and self._parameters.get(placeholder) is value:
                del self._parameters[placeholder]
                if placeholder in self._frozen:
                    self._frozen.discard(placeholder)
                    self._frozen.add(name)
        super().__setattr__(name, value)

    def _keras_weights(self):
        """[(tensor, to_keras, from_keras)] in Keras' order; by default the layer's own parameters as they
        are, then those of the Keras layers inside it."""
        entries = [(p, None, None) for name, p in self._own_named_parameters() if name not in self._fixed]
        for child in self._child_layers():
            entries += child._keras_weights()
        return entries

    @property
    def weights(self):
        """The layer's weights in Keras' order, as Keras Variables: ``numpy()`` and ``shape`` in Keras' layout,
        ``name``, ``path``, ``assign``; ``.value`` is the shendu parameter behind (its gradient in ``.value.grad``)."""
        if not self.built:
            return []  # as Keras: an unbuilt layer has no weights yet
        return [self._weight_view(tensor, to_keras, from_keras) for tensor, to_keras, from_keras in self._keras_weights()]

    def _weight_view(self, tensor, to_keras, from_keras):
        if isinstance(tensor, Variable):
            return tensor
        owner, attribute = self._weight_owner(tensor)
        views = owner.__dict__.setdefault("_weight_views", {})
        view = views.get(id(tensor))
        if view is None or view.value is not tensor:
            view = WeightView(tensor, to_keras, from_keras, _keras_weight_name(owner, attribute), owner.name)
            views[id(tensor)] = view
        return view

    def _weight_owner(self, tensor):
        """(the Keras layer whose own weight ``tensor`` is, its attribute path there)."""
        stack = [self]
        while stack:
            layer = stack.pop(0)
            for name, candidate in layer._own_named_parameters():
                if candidate is tensor:
                    return layer, name
            for name, candidate in layer._own_named_buffers():
                if candidate is tensor:
                    return layer, name
            stack += layer._child_layers()
        return self, "variable"

    @property
    def trainable_weights(self):
        return [w for w in self.weights if w.trainable]

    @property
    def non_trainable_weights(self):
        trainable = {id(w) for w in self.trainable_weights}
        return [w for w in self.weights if id(w) not in trainable]

    def count_params(self):
        """The number of scalars in the layer's weights (Keras counts BatchNorm's moving statistics too)."""
        if not self.built:
            raise ValueError(
                f"You tried to call `count_params` on layer '{self.name}', but the layer isn't built. "
                "You can build it manually via: `layer.build(input_shape)`."
            )
        return int(sum(math.prod(w.shape) for w in self.weights))

    def get_weights(self):
        """The weights as NumPy arrays in Keras' layouts (Dense kernel (in, out), Conv2D (kh, kw, in, out), ...)."""
        out = []
        for tensor, to_keras, _ in self._keras_weights():
            out.append(np.array(to_keras(tensor) if to_keras is not None else tensor._array, copy=True))
        return out

    def set_weights(self, weights):
        """Load NumPy arrays given in Keras' layouts (the inverse of :meth:`get_weights`).

        Raises:
            ValueError: a different number of arrays, or an array of the wrong shape.
        """
        entries = self._keras_weights()
        weights = list(weights)
        if len(weights) != len(entries):
            raise ValueError(
                f"Layer {self.name!r} expects {len(entries)} weight(s), but the provided list has {len(weights)}. "
                f"Expected shapes: {[tuple(s) for s in self._keras_shapes()]}"
            )
        arrays = []
        for index, ((tensor, to_keras, from_keras), value) in enumerate(zip(entries, weights)):
            value = value._array if isinstance(value, Tensor) else np.asarray(value)
            expected = tuple(np.shape(to_keras(tensor))) if to_keras is not None else tuple(tensor.shape)
            if tuple(value.shape) != expected:
                raise ValueError(
                    f"Layer {self.name!r} weight {index} has shape {expected}, but the provided weight has shape "
                    f"{tuple(value.shape)}"
                )
            arrays.append((tensor, from_keras, value))
        with no_grad():
            for tensor, from_keras, value in arrays:
                if from_keras is not None:
                    from_keras(tensor, value)
                else:
                    tensor._array[...] = value.astype(tensor._array.dtype, copy=False)

    def _keras_shapes(self):
        return [np.shape(t(w)) if t is not None else tuple(w.shape) for w, t, _ in self._keras_weights()]

    # ----- losses added in call() -------------------------------------------------------------
    def add_loss(self, loss):
        """Add a term to the model's training loss (call it inside ``call``; it is renewed at every call)."""
        self.__dict__.setdefault("_added_losses", []).append(loss)

    @property
    def losses(self):
        """The ``add_loss`` terms of the last call of this layer and the layers inside it, then the weight
        penalties of their regularisers."""
        added, penalties = [], []
        for module in self.modules():
            added += module.__dict__.get("_added_losses", ())
            method = getattr(module, "_regularization", None)
            if callable(method):
                penalties += [p for p in method() if p is not None]
        return added + penalties

    def _clear_losses(self):
        for module in self.modules():
            module.__dict__.pop("_added_losses", None)

    # ----- activation (with the hook the fused losses use) -----------------------------------
    def _set_activation(self, activation):
        self.activation = activations.get(activation)
        if isinstance(activation, str):
            self._activation_name = activation.lower()
        else:
            self._activation_name = None if activation is None else activations.serialize(self.activation)

    def _activate(self, pre):
        if self._capture_pre_activation:
            # NOTE: kept for the loss: softmax + categorical cross-entropy (and sigmoid + binary
            # cross-entropy) are computed from these logits, stable for any value (see losses.py).
            self.__dict__["_captured_pre_activation"] = pre
        return self.activation(pre)

    def _call_with_pre_activation(self, inputs):
        """``(output, pre_activation)``; the second is None for a layer without an activation step."""
        self._capture_pre_activation = True
        self.__dict__.pop("_captured_pre_activation", None)
        try:
            output = self(inputs)
        finally:
            self._capture_pre_activation = False
        return output, self.__dict__.pop("_captured_pre_activation", None)

    # ----- building ----------------------------------------------------------------------------
    def build(self, input_shape):
        """Create the weights for ``input_shape`` (batch axis included, as ``None``)."""
        self.built = True

    def _maybe_build(self, input_shape):
        if self.built:
            return
        self._check_buildable(input_shape)
        self.build(input_shape)
        self.built = True
        self._build_input_shape = input_shape
        self.train(self.training)  # the nn modules just created follow the layer's mode
        self._apply_trainable()
        if self._initial_weights is not None:
            weights, self._initial_weights = self._initial_weights, None
            self.set_weights(weights)

    def _check_buildable(self, input_shape):
        pass

    def compute_output_shape(self, input_shape):
        """The output shape for ``input_shape``; the default keeps the shape."""
        return input_shape

    def get_build_config(self):
        if not self.built or self._build_input_shape is None:
            return None
        return {"input_shape": _plain_shape(self._build_input_shape)}

    def build_from_config(self, config):
        shape = config.get("input_shape") if isinstance(config, dict) else None
        if shape is not None:
            self._maybe_build(_tuple_shape(shape))

    # ----- calling -------------------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        if not args:
            if "inputs" not in kwargs:
                raise TypeError(f"{self.name}: missing the inputs argument")
            args = (kwargs.pop("inputs"),)
        inputs, rest = args[0], args[1:]
        if _is_symbolic(inputs):
            return self._call_symbolic(inputs, rest, kwargs)
        training = kwargs.pop("training", None)
        mask = kwargs.pop("mask", None)
        if mask is None:
            mask = _mask_of(inputs)  # the mask the previous layer attached to its output
        parameters = _call_parameters(self)
        if mask is not None and "mask" in parameters:  # as Keras: only if call takes it
            kwargs["mask"] = mask
        if "training" in parameters:  # as Keras: call() sees the mode (given, or the one the layer runs in)
            kwargs["training"] = bool(training) if training is not None else self.training
        inputs = self._to_tensors(inputs)
        output = self._call_eagerly(inputs, rest, kwargs, training)
        output_mask = self.compute_mask(inputs, mask)
        if output_mask is not None:
            outputs = list(output) if isinstance(output, (list, tuple)) else [output]
            # one mask per output when the layer gives a list of them (as a layer that splits its input does)
            masks = list(output_mask) if isinstance(output_mask, (list, tuple)) and len(output_mask) == len(outputs) \
                else [output_mask] * len(outputs)
            for tensor, tensor_mask in zip(outputs, masks):
                if isinstance(tensor, Tensor) and tensor_mask is not None:
                    tensor._keras_mask = tensor_mask
        return output

    # ----- masks ----------------------------------------------------------------------------------
    supports_masking = False
    _creates_mask = False  # True for layers that make a mask from their input alone (Masking, Embedding(mask_zero))

    def compute_mask(self, inputs, previous_mask=None):
        """The mask of the output: the input's mask when the layer keeps the time steps (``supports_masking``)."""
        if not self.supports_masking:
            return None
        return previous_mask

    def _call_eagerly(self, inputs, rest, kwargs, training):
        if not self.built:
            self._maybe_build(_shape_of(inputs))
        self._check_input(inputs)
        if _CALL_DEPTH[0] == 0:  # the outermost call renews the add_loss terms of everything inside
            self._clear_losses()
        _CALL_DEPTH[0] += 1
        try:
            if training is None or bool(training) == self.training:
                return Module.__call__(self, inputs, *rest, **kwargs)
            saved = [(m, m.training) for m in self.modules()]
            self.train(bool(training))
            try:
                return Module.__call__(self, inputs, *rest, **kwargs)
            finally:
                for module, mode in saved:
                    object.__setattr__(module, "training", mode)
        finally:
            _CALL_DEPTH[0] -= 1

    def forward(self, inputs, *args, **kwargs):
        return self.call(inputs, *args, **kwargs)

    def call(self, inputs, *args, **kwargs):
        """The computation; a subclass overrides it. The default returns the inputs."""
        return inputs

    def _to_tensors(self, value):
        if isinstance(value, (list, tuple)):
            return [self._to_tensors(v) for v in value]
        if isinstance(value, Tensor):
            if self._accepts_integers or value._array.dtype == self._numpy_dtype:
                return value
            if value._array.dtype.kind == "f":
                return value.to(self._numpy_dtype)  # differentiable cast (float64 input to a float32 layer)
            return Tensor(value._array.astype(self._numpy_dtype))
        array = np.asarray(value)
        if array.dtype.kind not in "biuf":
            raise TypeError(f'Layer "{self.name}" expects numbers; got an array of dtype {array.dtype}')
        if self._accepts_integers:
            return Tensor(array)
        if array.dtype != self._numpy_dtype:
            array = array.astype(self._numpy_dtype)
        return Tensor(array)

    def _check_input(self, inputs):
        spec = self._input_spec
        if spec is None or isinstance(inputs, list):
            return
        _check_against_spec(self.name, spec, tuple(inputs.shape))

    def _call_symbolic(self, inputs, rest, kwargs):
        if rest:  # further positional arguments are recorded under the names call() gives them
            names = [p.name for p in inspect.signature(self.call).parameters.values()
                     if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)][1:]  # fmt: skip
            if len(rest) > len(names):
                raise TypeError(f"{self.name}: call() takes {len(names) + 1} positional argument(s); got {len(rest) + 1}")
            kwargs = {**dict(zip(names, rest)), **kwargs}
        flat = _flatten(inputs)
        if not all(isinstance(t, KerasTensor) for t in flat):
            raise TypeError(f'Layer "{self.name}": mixing symbolic KerasTensors and concrete values in one call '
                            "is not supported")  # fmt: skip
        shapes = [t.shape for t in flat] if isinstance(inputs, (list, tuple)) else flat[0].shape
        n_main, kw_layout, plain = len(flat), {}, {}
        for key, value in kwargs.items():
            if _is_symbolic(value):
                values = _flatten(value)
                kw_layout[key] = (len(flat), len(values), isinstance(value, (list, tuple)))
                flat = flat + values
            else:
                plain[key] = value
        if not self.built:
            self._maybe_build(shapes)
        elif self._input_spec is not None and not isinstance(shapes, list):
            _check_against_spec(self.name, self._input_spec, shapes)
        if type(self).compute_output_shape is Layer.compute_output_shape and not kw_layout and \
                not type(self).__module__.startswith("shendu."):
            # a user's layer that does not declare its output shape: run it once on zeros, as Keras traces it
            dtypes = [t.dtype for t in _flatten(inputs)]
            extra = dict(plain)
            if "mask" in _call_parameters(self) and any(getattr(t, "_has_mask", False) for t in flat):
                # the layer reads a mask the graph will carry: trace it with one that keeps every step
                first = flat[0].shape
                extra["mask"] = Tensor(np.ones((1,) + tuple(1 if d is None else d for d in first[1:2]), bool))
            output_shape = _dry_run_shape(self, shapes, lambda x: self.call(x, **extra), dtypes)
        else:
            output_shape = self.compute_output_shape(shapes)
        node = Node(self, flat, isinstance(inputs, (list, tuple)), plain, [], n_main, kw_layout)
        multiple = isinstance(output_shape, list)
        shapes_out = output_shape if multiple else [output_shape]
        outputs = [
            KerasTensor(shape, self._dtype_name, f"{self.name}/output_{i}" if multiple else self.name, node, i)
            for i, shape in enumerate(shapes_out)
        ]
        node.outputs = outputs
        masked = any(getattr(t, "_has_mask", False) for t in flat)
        passes_on = self.supports_masking or (type(self).compute_mask is not Layer.compute_mask
                                              and getattr(self, "mask_zero", True))  # fmt: skip
        if (masked and passes_on) or self._creates_mask:
            for out in outputs:
                out._has_mask = True  # a Keras mask will ride on this value when the model runs
        self._inbound_nodes.append(node)
        return outputs if multiple else outputs[0]

    # ----- configuration ----------------------------------------------------------------------
    def get_config(self):
        """The constructor arguments as plain data (Keras' ``get_config``)."""
        config = {"name": self.name, "trainable": self.trainable}
        if self._dtype_name != "float32":
            config["dtype"] = self._dtype_name
        if self._batch_input_shape is not None:
            config["batch_input_shape"] = _plain_shape(self._batch_input_shape)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if "batch_input_shape" in config and config["batch_input_shape"] is not None:
            config["batch_input_shape"] = _tuple_shape(config["batch_input_shape"])
        return cls(**config)

    def _describe(self):
        return f"{type(self).__name__}"

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


def _plain_shape(shape):
    if isinstance(shape, list):
        return [_plain_shape(s) for s in shape]
    return [None if d is None else int(d) for d in shape]


def _tuple_shape(shape):
    if isinstance(shape, (list, tuple)) and shape and isinstance(shape[0], (list, tuple)):
        return [_tuple_shape(s) for s in shape]
    return tuple(None if d is None else int(d) for d in shape)


def _check_dtype(layer, dtype):
    if dtype is None:
        return _dtype.default_float.numpy_dtype.name
    name = np.dtype(dtype.numpy_dtype if hasattr(dtype, "numpy_dtype") else dtype).name
    if name not in ("float16", "float32", "float64"):
        raise ValueError(f"{layer}: dtype must be float16, float32 or float64. Received: dtype={dtype!r}")
    return name


def _check_against_spec(name, spec, shape):
    ndim = len(shape)
    if "ndim" in spec and ndim != spec["ndim"]:
        raise ValueError(
            f'Input 0 of layer "{name}" is incompatible with the layer: expected ndim={spec["ndim"]}, found '
            f"ndim={ndim}. Full shape received: {format_shape(shape)}"
        )
    if "min_ndim" in spec and ndim < spec["min_ndim"]:
        raise ValueError(
            f'Input 0 of layer "{name}" is incompatible with the layer: expected min_ndim={spec["min_ndim"]}, found '
            f"ndim={ndim}. Full shape received: {format_shape(shape)}"
        )
    for axis, size in spec.get("axes", {}).items():
        if size is None or not -ndim <= axis < ndim:
            continue
        if shape[axis] is not None and shape[axis] != size:
            raise ValueError(
                f'Input 0 of layer "{name}" is incompatible with the layer: expected axis {axis} of input shape to '
                f"have value {size}, but received input with shape {format_shape(shape)}"
            )


# ----- inputs ------------------------------------------------------------------------------
class InputLayer(Layer):
    """The entry point of a functional model: it holds the :class:`KerasTensor` that ``Input`` returns.

    Args:
        shape: the shape of one sample (no batch axis), e.g. ``(28, 28, 1)`` or ``(maxlen,)``.
        batch_size: a fixed batch size. Defaults to None.
        dtype: the dtype of the input values. Defaults to "float32".
        batch_shape: the shape with the batch axis (instead of ``shape``).
        name: defaults to ``input_layer``, ``input_layer_1``, ...
    """

    _accepts_integers = True

    def __init__(self, shape=None, batch_size=None, dtype=None, batch_shape=None, name=None, input_shape=None,
                 sparse=None, **kwargs) -> None:  # fmt: skip
        kwargs.pop("trainable", None)
        if shape is None and input_shape is not None:
            shape = input_shape
        if batch_shape is not None:
            full = (None if batch_shape[0] is None else int(batch_shape[0]),) + _batch_shape(tuple(batch_shape)[1:], "batch_shape")
        elif shape is not None:
            full = (batch_size,) + _batch_shape(shape, "shape")
        else:
            raise ValueError("Input/InputLayer needs shape=(...) (the shape of one sample, without the batch axis)")
        value_dtype = "float32" if dtype is None else np.dtype(getattr(dtype, "numpy_dtype", dtype)).name
        super().__init__(name=name or unique_name("input_layer"), **kwargs)
        self._batch_input_shape = full
        self._value_dtype = value_dtype
        self.built = True
        self._build_input_shape = full
        node = Node(self, [], False, {}, [])
        node.outputs = [KerasTensor(full, value_dtype, self.name, node, 0)]
        self._inbound_nodes.append(node)

    def compute_output_shape(self, input_shape):
        return self._batch_input_shape

    def get_config(self):
        return {"batch_shape": _plain_shape(self._batch_input_shape), "dtype": self._value_dtype, "name": self.name}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["batch_shape"] = _tuple_shape(config["batch_shape"])
        return cls(**config)

    def get_build_config(self):
        return None


def Input(shape=None, batch_size=None, dtype=None, name=None, batch_shape=None, sparse=None, tensor=None):  # noqa: N802
    """A symbolic input for a functional model: ``x = Input(shape=(784,))``.

    Args:
        shape: the shape of one sample, without the batch axis.
        batch_size: a fixed batch size. Defaults to None.
        dtype: the dtype of the values fed in. Defaults to "float32".
        name: the input's name. Defaults to ``input_layer``, ``input_layer_1``, ...
        batch_shape: the full shape with the batch axis, instead of ``shape``.

    Returns:
        a :class:`KerasTensor`.

    Example:
        >>> inputs = Input(shape=(100,))
        >>> outputs = Dense(10, activation="softmax")(inputs)
        >>> model = Model(inputs, outputs)
    """
    if tensor is not None:
        raise ValueError("Input(tensor=...) is not supported; feed the values when calling the model")
    return InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, batch_shape=batch_shape, name=name).output
