"""Reverse-mode automatic differentiation: the chain rule over a graph recorded as code runs.

Every differentiable op is a :class:`Function`. Its ``forward`` works on raw arrays and
records what ``backward`` needs; calling it on tensors links the outputs to the function
(``output._creator``), which links back to its inputs. ``backward`` walks that graph in
reverse topological order (functions ordered by *generation*, a heap, no recursion) and
sends each output gradient ``gy`` back as input gradients ``gx`` — the chain rule
``∂L/∂x = ∂L/∂y · ∂y/∂x``.

Backward normally works on arrays (fast). With ``create_graph=True`` it works on tensors
for the functions whose ``backward`` is written with tensor-compatible operations
(``differentiable_backward = True``: the elementwise ops, reductions, shape and indexing ops,
matmul/linear, softmax and log_softmax), so gradients of gradients come free. A gradient from
any other function is first-order only, and differentiating it again raises a clear error.
"""

import contextlib
import functools
import heapq
import itertools
import sys
from typing import Any
import threading
import weakref

from ._backend import xp
from ._floating_point import enter_quiet as _enter_quiet
from ._floating_point import leave_quiet as _leave_quiet
from ._floating_point import quiet_numpy
from ._parallel import shared_add

__all__ = [
    "Function",
    "no_grad",
    "enable_grad",
    "set_grad_enabled",
    "is_grad_enabled",
    "inference_mode",
    "backward",
    "grad",
    "gradcheck",
    "sum_to",
]


class _GradMode(threading.local):
    enabled = True


_mode = _GradMode()


def is_grad_enabled():
    """Return True when operations are being recorded for backward."""
    return _mode.enabled


class _GradModeContext(contextlib.ContextDecorator):
    """Context manager and decorator that sets grad mode, restoring it on exit.

    Usable as ``with no_grad():``, ``@no_grad()`` and, as in PyTorch, bare ``@no_grad``.
    """

    _target: bool | None = None

    def __new__(cls, func=None):
        self = super().__new__(cls)
        if func is not None and callable(func):  # bare decorator: no_grad(func)
            return self(func)
        return self

    def __enter__(self):
        self._previous = _mode.enabled
        _mode.enabled = self._target
        return self

    def __exit__(self, *exc):
        _mode.enabled = self._previous
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return func(*args, **kwargs)

        return wrapper


class no_grad(_GradModeContext):
    """Disable graph recording (context manager or decorator), as ``torch.no_grad``.

    Example:
        >>> with no_grad():
        ...     y = model(x)
    """

    _target = False


class enable_grad(_GradModeContext):
    """Enable graph recording inside a ``no_grad`` block."""

    _target = True


inference_mode = no_grad


class set_grad_enabled(_GradModeContext):
    """Set grad mode to ``mode``: as a function call, a context manager or a decorator."""

    def __init__(self, mode):
        self._target = bool(mode)
        self._previous = _mode.enabled
        _mode.enabled = self._target

    def __enter__(self):
        return self

    def __call__(self, func):
        mode = self._target
        _mode.enabled = self._previous

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return func(*args, **kwargs)

        return wrapper


def sum_to(gx, shape):
    """Sum a broadcast gradient back down to ``shape`` (works on arrays and tensors).

    The one place that undoes broadcasting: leading axes are summed away, and axes
    that were 1 in ``shape`` are summed with ``keepdims``.
    """
    if gx.shape == tuple(shape):
        return gx
    lead = len(gx.shape) - len(shape)
    axes = tuple(range(lead)) + tuple(i + lead for i, n in enumerate(shape) if n == 1 and gx.shape[i + lead] != 1)
    if hasattr(gx, "_array"):  # a Tensor: stay differentiable
        from .ops.reduction import sum_to_shape

        return sum_to_shape(gx, tuple(shape))
    out = gx.sum(axis=axes, keepdims=True) if axes else gx
    return out.reshape(shape) if lead else out


class Function:
    """Base class of every differentiable op.

    Subclasses implement ``forward(*arrays) -> array | tuple`` and
    ``backward(*output_grads) -> input_grad | tuple`` (``None`` for inputs that need none).
    Inside ``backward``, ``self.input_values()`` gives the inputs and ``self.needs_input_grad``
    tells which inputs want a gradient.
    """

    differentiable_backward = False
    _tensor_mode = False
    _released = False  # set once backward has freed what it saved
    _retained = False  # set when an output asked for retain_grad()
    output_meta = None  # (shape, dtype) of each output, kept for multi-output functions

    def __call__(self, *inputs):
        token = _enter_quiet()  # NumPy's floating-point warnings off inside every op (see _floating_point)
        try:
            return self._apply(inputs)
        finally:
            _leave_quiet(token)

    def _apply(self, inputs):
        # The hot path of every op, kept lean: one- and two-input ops (nearly all) skip the
        # generic loops, and nothing is imported or allocated that recording does not need.
        count = len(inputs)
        if count == 2:
            a, b = inputs
            outputs = self.forward(a._array, b._array)
            record = (a._requires_grad or b._requires_grad) and _mode.enabled
        elif count == 1:
            a = inputs[0]
            outputs = self.forward(a._array)
            record = a._requires_grad and _mode.enabled
        else:
            outputs = self.forward(*[x._array for x in inputs])
            record = _mode.enabled and any([x._requires_grad for x in inputs])
        if type(outputs) is not tuple:
            if type(outputs) is not _ndarray:  # NumPy returns scalars from 0-d arithmetic
                outputs = _scalar_output(outputs, inputs)
            if not record:
                return _wrap(outputs, False)
            result = _wrap(outputs, outputs.dtype.kind == "f")
            self._record(inputs, count)
            self.outputs = (weakref.ref(result),)
            result._creator = self
            result._generation = self.generation + 1
            return result
        outputs = tuple(y if type(y) is _ndarray else _scalar_output(y, inputs) for y in outputs)
        results = tuple(_wrap(y, record and y.dtype.kind == "f") for y in outputs)
        if record:
            self._record(inputs, count)
            self.output_meta = [(y.shape, y.dtype) for y in outputs]
            self.outputs = tuple(weakref.ref(t) for t in results)
            generation = self.generation + 1
            for index, t in enumerate(results):
                if t._requires_grad:
                    t._creator = self
                    t._output_index = index
                    t._generation = generation
        return results

    def _record(self, inputs, count):
        """Link this function to its inputs for backward; its generation orders the backward walk."""
        self.inputs = inputs
        if count == 2:
            a, b = inputs
            self.needs_input_grad = (a._requires_grad, b._requires_grad)
            self.generation = a._generation if a._generation > b._generation else b._generation
            self.versions = (a._version, b._version)
        elif count == 1:
            a = inputs[0]
            self.needs_input_grad = (a._requires_grad,)
            self.generation = a._generation
            self.versions = (a._version,)
        else:
            self.needs_input_grad = tuple([x._requires_grad for x in inputs])
            self.generation = max([x._generation for x in inputs])
            self.versions = tuple([x._version for x in inputs])

    def forward(self, *arrays):
        raise NotImplementedError(f"{type(self).__name__}.forward")

    def backward(self, *grads):
        raise NotImplementedError(f"{type(self).__name__}.backward")

    def input_values(self):
        """The inputs: arrays during ordinary backward, tensors when building a graph of the gradient.

        Raises if an input was changed in place since forward (its saved value would be wrong).
        """
        for index, (x, version) in enumerate(zip(self.inputs, self.versions)):
            if x._version != version:
                raise RuntimeError(
                    f"one of the variables needed for gradient computation has been modified by an in-place "
                    f"operation: input {index} of {type(self).__name__} (shape {tuple(x._array.shape)}) is at "
                    f"version {x._version}; expected version {version}. Change a copy (clone()) instead, "
                    "or do the in-place change after backward"
                )
        if self._tensor_mode:
            return self.inputs
        return [x._array for x in self.inputs]

    def output_value(self, saved, index=0):
        """An output: the array ``saved`` in forward, or the live output tensor when building a graph."""
        if not self._tensor_mode:
            return saved
        output = self.outputs[index]()
        if output is None:  # the caller dropped it: recompute it from the inputs, on the graph
            output = type(self).__new__(type(self))
            output.__dict__.update({k: v for k, v in self.__dict__.items() if k not in _RECORD_ATTRS})
            output = output(*self.inputs)
            if isinstance(output, tuple):
                output = output[index]
        return output

    def release(self):
        """Free what backward needs, so the memory goes as soon as the graph is used."""
        self.__dict__.clear()
        self._released = True

    # ----- introspection, as PyTorch's grad_fn --------------------------------------------------
    def name(self):
        """PyTorch's style of name: ``SumBackward0``."""
        return f"{type(self).__name__}Backward0"

    def __repr__(self):
        return f"<{self.name()} object at {hex(id(self))}>"

    @property
    def next_functions(self):
        """((function, output index), ...) for each input: its creator, an AccumulateGrad for a leaf that
        requires grad, or (None, 0) — the graph a learner can walk backwards from ``loss.grad_fn``."""
        links = []
        for x in self.__dict__.get("inputs", ()):
            if x._creator is not None:
                links.append((x._creator, x._output_index))
            elif x._requires_grad:
                links.append((AccumulateGrad(x), 0))
            else:
                links.append((None, 0))
        return tuple(links)


class AccumulateGrad:
    """The end of a backward path: the leaf ``variable`` whose ``.grad`` receives the gradient."""

    next_functions = ()

    def __init__(self, variable):
        self.variable = variable

    def name(self):
        return "torch::autograd::AccumulateGrad"

    def __repr__(self):
        return f"<AccumulateGrad object at {hex(id(self))}>"


_RECORD_ATTRS = {"inputs", "needs_input_grad", "generation", "versions", "output_meta", "outputs", "_tensor_mode"}
_ndarray = xp.ndarray
# NumPy < 2 promotes 0-d float32 mixed with a Python float to float64 (value-based casting);
# NumPy 2 keeps float32 (NEP 50). Op results are held to NumPy 2's rule.
_LEGACY_SCALAR_PROMOTION = int(xp.__version__.split(".")[0]) < 2


def _scalar_output(value, inputs):
    """A NumPy scalar result as a 0-d array, no wider than the widest float input (see above)."""
    value = xp.asarray(value)
    if _LEGACY_SCALAR_PROMOTION and value.dtype.kind == "f":
        widths = [x._array.dtype.itemsize for x in inputs if x._array.dtype.kind == "f"]
        if widths and value.dtype.itemsize > max(widths):
            value = value.astype(f"float{8 * max(widths)}")
    return value


# Set by shendu.tensor, which imports this module: the Tensor class and its fast wrapper.
Tensor: Any = None
_wrap: Any = None


class _NoDoubleBackward(Function):
    """Carries a gradient computed by an array-only backward; differentiating it again raises.

    As PyTorch does for ops without a double backward: a clear error, never a silently missing term.
    """

    def __init__(self, name, value):
        self.name, self.value = name, value

    def forward(self, *arrays):
        return self.value

    def backward(self, *grads):
        raise RuntimeError(
            f"grad of grad through {self.name} is not implemented: its backward is not differentiable "
            "(create_graph=True gives its first-order gradient only)"
        )


def _zeros_for(meta, as_tensor):
    shape, dtype = meta
    zeros = xp.zeros(shape, dtype)
    if as_tensor:
        return Tensor(zeros)
    return zeros


_counter = itertools.count()
_getrefcount = sys.getrefcount
# References to a gradient that nothing else holds, seen from _run_backward's loop: the tuple the
# backward returned, the loop variable, and getrefcount's own argument. Another function's
# attribute, a second slot of that tuple or the incoming gradient list would each add one.
_SOLE_REFERENCES = 3
_FREED = (
    "Trying to backward through the graph a second time (or directly access saved tensors after they "
    "have already been freed). Specify retain_graph=True if you need to backward through the graph a "
    "second time."
)


def _run_backward(roots, root_grads, retain_graph, create_graph, capture=None):
    """Propagate ``root_grads`` from ``roots`` through the graph (NumPy's floating-point warnings off)."""
    with quiet_numpy():
        return _propagate(roots, root_grads, retain_graph, create_graph, capture)


def _propagate(roots, root_grads, retain_graph, create_graph, capture=None):
    """Propagate ``root_grads`` from ``roots`` through the graph.

    Functions run in decreasing generation (a heap), so each runs once, after every consumer of its
    outputs has sent its share of the gradient. With ``capture`` (a dict id(tensor) -> tensor),
    gradients of those tensors are returned instead of accumulated into ``.grad`` (used by :func:`grad`).
    """
    captured = {}
    pending = {}  # function -> list of output gradients
    hooked_leaves = {}  # id -> (leaf, summed gradient): their hooks run once, at the end
    heap = []
    push, pop = heapq.heappush, heapq.heappop

    def send(tensor, g, owned=False):
        if tensor._hooks and tensor._creator is None:
            held = hooked_leaves.get(id(tensor))
            hooked_leaves[id(tensor)] = (tensor, g if held is None else held[1] + g)
            return
        if capture is not None and id(tensor) in capture:
            key = id(tensor)
            captured[key] = g if captured.get(key) is None else captured[key] + g
        creator = tensor._creator
        if creator is None:
            if capture is None:
                tensor._accumulate_grad(g, owned)
            return
        slots = pending.get(creator)
        if slots is None:
            if creator._released:
                raise RuntimeError(_FREED)
            slots = pending[creator] = [None] * len(creator.outputs)
            push(heap, (-creator.generation, next(_counter), creator))
        index = tensor._output_index
        slots[index] = g if slots[index] is None else shared_add(slots[index], g)

    previous = _mode.enabled
    _mode.enabled = create_graph
    try:
        for root, g in zip(roots, root_grads):
            send(root, g)
        while heap:
            fn = pop(heap)[2]
            gys = pending.pop(fn)
            if fn._retained:  # an output has hooks or wants its .grad kept
                for index, ref in enumerate(fn.outputs):
                    out = ref()
                    if out is None or gys[index] is None:
                        continue
                    if out._hooks:
                        gys[index] = _apply_hooks(out, gys[index])
                    if out._retains_grad and capture is None:
                        out._accumulate_grad(gys[index])
            if fn.output_meta is not None:  # a multi-output function: outputs nobody used get zeros
                gys = [_zeros_for(meta, create_graph) if g is None else g for meta, g in zip(fn.output_meta, gys)]
            links = None
            if create_graph:
                as_tensor = fn.differentiable_backward
                if as_tensor:
                    gys = [g if isinstance(g, Tensor) else Tensor(g) for g in gys]
                else:  # array backward: its results are marked so that differentiating them says so
                    links = [t for t in list(fn.inputs) + gys if isinstance(t, Tensor) and t._requires_grad]
                    gys = [g._array if isinstance(g, Tensor) else g for g in gys]
                fn._tensor_mode = as_tensor
                try:
                    gxs = fn.backward(*gys)
                finally:
                    fn._tensor_mode = False
            else:
                gxs = fn.backward(*gys)
            if type(gxs) is not tuple:
                gxs = (gxs,)
            inputs, needs = fn.inputs, fn.needs_input_grad
            for index in range(min(len(inputs), len(gxs))):  # (not zip: its reused tuple holds a reference)
                gx = gxs[index]
                if needs[index] and gx is not None:
                    if create_graph and not isinstance(gx, Tensor):
                        gx = _NoDoubleBackward(type(fn).__name__, gx)(*links) if links else Tensor(gx)
                    # A fresh array that only this loop holds (a weight gradient straight from a matmul)
                    # can become a leaf's .grad as it is, without the copy that a shared one needs.
                    owned = type(gx) is _ndarray and gx.base is None and _getrefcount(gx) <= _SOLE_REFERENCES
                    send(inputs[index], gx, owned)
            if not retain_graph:
                fn.release()
        for leaf, g in hooked_leaves.values():
            g = _apply_hooks(leaf, g)
            if capture is None:
                leaf._accumulate_grad(g)
            elif id(leaf) in capture:
                captured[id(leaf)] = g
    finally:
        _mode.enabled = previous
    return captured


def _apply_hooks(tensor, g):
    """Run ``tensor``'s gradient hooks on ``g`` (an array, or a tensor when building a graph)."""
    as_tensor = isinstance(g, Tensor)
    value = g if as_tensor else _wrap(g, False)
    for hook in list(tensor._hooks):
        result = hook(value)
        if result is not None:
            result = result if isinstance(result, Tensor) else Tensor(result)
            if result.shape != value.shape:
                raise RuntimeError(f"hook returned a gradient of shape {tuple(result.shape)}; expected {tuple(value.shape)}")
            value = result
    return value if as_tensor else value._array


def _check_root(tensor, gradient):
    if not tensor._requires_grad:
        raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
    if gradient is None:
        if tensor._array.size != 1:
            raise RuntimeError(
                f"grad can be implicitly created only for scalar outputs; got an output of shape "
                f"{tuple(tensor.shape)}: pass gradient= with that shape"
            )
        return xp.ones_like(tensor._array)
    g = gradient._array if isinstance(gradient, Tensor) else xp.asarray(gradient, dtype=tensor._array.dtype)
    if g.shape != tensor._array.shape:
        raise RuntimeError(
            f"gradient has shape {tuple(g.shape)} but the output has shape {tuple(tensor.shape)}; they must match"
        )
    return g


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False):
    """Compute and accumulate into ``.grad`` the gradients of ``tensors`` w.r.t. the graph leaves."""
    if isinstance(tensors, Tensor):
        tensors, grad_tensors = [tensors], [grad_tensors]
    elif grad_tensors is None or isinstance(grad_tensors, Tensor):
        grad_tensors = [grad_tensors] * len(tensors)
    if retain_graph is None:
        retain_graph = create_graph
    grads = [_check_root(t, g) for t, g in zip(tensors, grad_tensors)]
    if create_graph:
        grads = [Tensor(g) if not isinstance(g, Tensor) else g for g in grads]
    _run_backward(list(tensors), grads, retain_graph, create_graph)
    while _after_backward:  # queued by queue_callback (DistributedDataParallel averages gradients here)
        _after_backward.pop(0)()


_after_backward: list = []


def queue_callback(callback):
    """Run ``callback()`` once the current (or next) ``backward()`` has filled every ``.grad``.

    What ``torch.autograd.Variable._execution_engine.queue_callback`` does for DistributedDataParallel:
    the gradients are averaged across processes after the backward pass, before ``optimizer.step()``.
    """
    _after_backward.append(callback)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=False):
    """Return the gradients of ``outputs`` with respect to ``inputs`` (without touching ``.grad``).

    With ``create_graph=True`` the returned gradients are themselves differentiable.

    Example:
        >>> x = tensor(3.0, requires_grad=True)
        >>> (gx,) = grad(x ** 3, x, create_graph=True)   # 3x² = 27
        >>> (ggx,) = grad(gx, x)                           # 6x = 18
    """
    if isinstance(outputs, Tensor):
        outputs, grad_outputs = [outputs], [grad_outputs]
    else:
        outputs = list(outputs)
        if grad_outputs is None or isinstance(grad_outputs, Tensor):
            grad_outputs = [grad_outputs] * len(outputs)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if retain_graph is None:
        retain_graph = create_graph
    roots = [_check_root(t, g) for t, g in zip(outputs, grad_outputs)]
    roots = [Tensor(g) for g in roots] if create_graph else roots
    captured = _run_backward(outputs, roots, retain_graph, create_graph, capture={id(x): x for x in inputs})
    results = []
    for x in inputs:
        g = captured.get(id(x))
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    "One of the differentiated Tensors appears to not have been used in the graph. "
                    "Set allow_unused=True if this is the desired behavior."
                )
            results.append(None)
        else:
            results.append(g if isinstance(g, Tensor) else Tensor(g))
    return tuple(results)


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """Compare autograd gradients of ``fn`` with central differences, in float64.

    ``(f(x + eps) - f(x - eps)) / 2eps`` along every element of every input that requires grad,
    for the scalar ``sum(fn(*inputs) * v)`` with a fixed random ``v``. Returns True, or raises
    ``AssertionError`` naming the input and the worst element.
    """
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    for i, x in enumerate(inputs):
        if isinstance(x, Tensor) and x.requires_grad and x.dtype != xp.float64:
            raise TypeError(f"gradcheck needs float64 inputs; input {i} has dtype {x.dtype}")
    rng = xp.random.default_rng(0)

    def as_tuple(out):
        return out if isinstance(out, tuple) else (out,)

    with no_grad():
        probes = [xp.asarray(rng.standard_normal(o.shape)) for o in as_tuple(fn(*inputs))]

    def scalar(*xs):
        outs = as_tuple(fn(*xs))
        return sum(float((o._array * v).sum()) for o, v in zip(outs, probes) if o.dtype.is_floating_point)

    targets = [x for x in inputs if isinstance(x, Tensor) and x.requires_grad]
    outs = as_tuple(fn(*inputs))
    outs = [o for o in outs if o.requires_grad]
    analytic = grad(
        outs,
        targets,
        grad_outputs=[Tensor(v) for o, v in zip(as_tuple(fn(*inputs)), probes) if o.requires_grad],
        allow_unused=True,
    )
    for index, (x, ga) in enumerate(zip(targets, analytic)):
        ga = xp.zeros_like(x._array) if ga is None else ga._array
        # NOTE: perturb through multi-indices, never a reshape(-1) view: for a non-contiguous
        # input that reshape is a copy and the perturbation would never reach the function.
        values = x._array
        numeric = xp.zeros(values.shape, dtype=values.dtype)
        with no_grad():
            for position in xp.ndindex(*values.shape):
                original = values[position]
                values[position] = original + eps
                plus = scalar(*inputs)
                values[position] = original - eps
                minus = scalar(*inputs)
                values[position] = original
                numeric[position] = (plus - minus) / (2 * eps)
        ga = xp.ascontiguousarray(ga)
        error = xp.abs(ga - numeric) - (atol + rtol * xp.abs(numeric))
        if error.size and error.max() > 0:
            worst = int(error.argmax())
            message = (
                f"gradcheck failed for input {index} (shape {tuple(x.shape)}): at flat index {worst} "
                f"autograd gave {ga.reshape(-1)[worst]!r}, central differences gave {numeric.reshape(-1)[worst]!r}"
            )
            if raise_exception:
                raise AssertionError(message)
            return False
    return True


def __getattr__(name):
    """``shendu.autograd.functional`` (jacobian, hessian, vjp), loaded on first use."""
    if name == "functional":
        from . import autograd_functional

        return autograd_functional
    raise AttributeError(f"module 'shendu.autograd' has no attribute {name!r}")
