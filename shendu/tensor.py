"""The Tensor: an array plus what autograd needs to send gradients back through it."""

from __future__ import annotations

import builtins
import functools
import numbers
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from . import _dtype
from ._backend import xp
from . import autograd as _autograd
from .autograd import backward as _backward

__all__ = ["Tensor", "device", "as_array", "as_tensor_operand"]


class device:
    """A compute device. shendu runs on the CPU; asking for CUDA raises a clear error."""

    __slots__ = ("type", "index")

    def __init__(self, spec="cpu", index=None):
        if isinstance(spec, device):
            spec, index = spec.type, spec.index
        kind, _, number = str(spec).partition(":")
        if kind == "cuda":
            raise RuntimeError(
                "CUDA is not available: shendu runs on the CPU (NumPy backend); "
                "use device('cpu') or shendu.cuda.is_available() to choose"
            )
        if kind != "cpu":
            raise RuntimeError(f"unknown device {spec!r}; expected 'cpu' (or 'cuda' where a GPU backend exists)")
        self.type = kind
        self.index = int(number) if number else index

    def __repr__(self):
        return f"device(type='{self.type}')"

    def __str__(self):
        return self.type

    def __eq__(self, other):
        try:
            return device(other).type == self.type
        except RuntimeError:
            return False

    def __hash__(self):
        return hash(self.type)


_CPU = device("cpu")


def as_array(data, dtype=None):
    """Turn Python data or an array into an array with PyTorch's dtype rules.

    Arrays keep their dtype; Python floats become float32, ints int64, bools bool.
    """
    if isinstance(data, Tensor):
        array = data._array
    elif isinstance(data, xp.ndarray):
        array = data
    elif isinstance(data, (list, tuple)) and any(isinstance(item, Tensor) for item in data):
        array = xp.asarray([as_array(item) for item in data])
    else:
        array = xp.asarray(data)
        if array.dtype.kind == "f" and not isinstance(data, xp.generic):
            if dtype is None:  # with a dtype, cast once below: float64 data must not pass through float32
                array = quiet_cast(array, _dtype.default_float.numpy_dtype)
        elif array.dtype.kind in "iu" and not isinstance(data, xp.generic):
            array = array.astype(xp.int64)
        elif array.dtype.kind not in "fiub":
            raise TypeError(f"cannot make a tensor from {type(data).__name__} with dtype {array.dtype}")
    if dtype is not None:
        array = quiet_cast(array, _dtype.to_numpy_dtype(dtype))
    return array


#: How tensors print (``shendu.set_printoptions``): PyTorch's defaults.
PRINT_OPTIONS = {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80, "sci_mode": None}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None, sci_mode=None):
    """How tensors print, as ``torch.set_printoptions`` (``profile``: "default", "short" or "full")."""
    profiles = {"default": (4, 1000, 3, 80), "short": (2, 1000, 2, 80), "full": (4, 2**63 - 1, 3, 80)}
    if profile is not None:
        if profile not in profiles:
            raise ValueError(f"profile must be one of {sorted(profiles)}; got {profile!r}")
        PRINT_OPTIONS.update(zip(("precision", "threshold", "edgeitems", "linewidth"), profiles[profile]))
    for key, value in (("precision", precision), ("threshold", threshold), ("edgeitems", edgeitems), ("linewidth", linewidth)):
        if value is not None:
            PRINT_OPTIONS[key] = int(value)
    PRINT_OPTIONS["sci_mode"] = sci_mode


def quiet_cast(array, dtype):
    """``array.astype(dtype)`` without NumPy's warnings: 1e40 becomes inf in float32 and NaN some integer,
    silently, as in PyTorch."""
    if array.dtype == dtype:
        return array
    with xp.errstate(all="ignore"):
        return array.astype(dtype)


def _promote(a, b):
    """Result dtype of a binary op under PyTorch's rules (float beats int, wider float wins)."""
    if a == b:
        return a
    if a.kind == "f" and b.kind == "f":
        return a if a.itemsize >= b.itemsize else b
    if a.kind == "f":
        return a
    if b.kind == "f":
        return b
    if a.kind == "b":
        return b
    if b.kind == "b":
        return a
    return xp.promote_types(a, b)


def as_tensor_operand(value, like):
    """Turn the other operand of a binary op into a Tensor whose dtype follows ``like``.

    A Python number adopts ``like``'s dtype (a float with an integer tensor gives float32),
    as PyTorch does.
    """
    if isinstance(value, Tensor):
        return value
    if isinstance(value, numbers.Number) and not isinstance(value, xp.ndarray):
        kind = like._array.dtype.kind
        if isinstance(value, bool) or (isinstance(value, numbers.Integral) and kind in "iuf") or kind == "f":
            dtype = like._array.dtype if not (kind == "b" and not isinstance(value, bool)) else None
        else:
            dtype = None
        if dtype is None:
            dtype = _dtype.default_float.numpy_dtype if isinstance(value, float) else xp.dtype(xp.int64)
        return Tensor(xp.asarray(value, dtype=dtype))
    return Tensor(as_array(value))


_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2}


def _binary_operands(a, b):
    """Both operands as Tensors of one promoted dtype.

    As in PyTorch, a 0-d tensor only decides the dtype when it is of a higher category
    (bool < integer < float) than the other operand: ``float32 array + float64 0-d`` is float32.
    """
    if not isinstance(a, Tensor):
        a = as_tensor_operand(a, b) if isinstance(b, Tensor) else Tensor(as_array(a))
    b = b if isinstance(b, Tensor) else as_tensor_operand(b, a)
    da, db = a._array.dtype, b._array.dtype
    if da != db:
        a_zero, b_zero = a._array.ndim == 0, b._array.ndim == 0
        if a_zero and not b_zero and _CATEGORY[da.kind] <= _CATEGORY[db.kind]:
            common = db
        elif b_zero and not a_zero and _CATEGORY[db.kind] <= _CATEGORY[da.kind]:
            common = da
        else:
            common = _promote(da, db)
        if da != common:
            a = a.to(common)
        if db != common:
            b = b.to(common)
    return a, b


# Tensor.type()'s names, as PyTorch's ('torch.FloatTensor' for float32, ...).
_TENSOR_TYPE_NAMES = {
    "float16": "HalfTensor", "float32": "FloatTensor", "float64": "DoubleTensor", "int8": "CharTensor",
    "uint8": "ByteTensor", "int16": "ShortTensor", "int32": "IntTensor", "int64": "LongTensor", "bool": "BoolTensor",
}  # fmt: skip
_DTYPE_OF_TENSOR_TYPE = {type_name: getattr(_dtype, name) for name, type_name in _TENSOR_TYPE_NAMES.items()}


class Tensor:
    """A multi-dimensional array that can record the operations applied to it.

    Args:
        data: array-like. NumPy arrays keep their dtype; Python floats become float32.
        requires_grad: record operations for backward. Defaults to False.
        dtype: element type. Defaults to the data's.

    Example:
        >>> x = Tensor([[1.0, 2.0]], requires_grad=True)
        >>> (x * x).sum().backward()
        >>> x.grad
        tensor([[2., 4.]])
    """

    __slots__ = (
        "_array",
        "_requires_grad",
        "_grad",
        "_creator",
        "_output_index",
        "_generation",
        "_retains_grad",
        "__weakref__",
        "__dict__",
    )
    __array_ufunc__ = None  # NumPy defers to Tensor's reflected operators
    __array_priority__ = 1000

    if TYPE_CHECKING:  # methods attached at import by shendu.ops (ops/__init__.py, ops/inplace.py), for type checkers
        add: Callable[..., Tensor]
        sub: Callable[..., Tensor]
        mul: Callable[..., Tensor]
        div: Callable[..., Tensor]
        true_divide: Callable[..., Tensor]
        neg: Callable[..., Tensor]
        pow: Callable[..., Tensor]
        exp: Callable[..., Tensor]
        log: Callable[..., Tensor]
        log2: Callable[..., Tensor]
        log10: Callable[..., Tensor]
        log1p: Callable[..., Tensor]
        expm1: Callable[..., Tensor]
        sqrt: Callable[..., Tensor]
        rsqrt: Callable[..., Tensor]
        square: Callable[..., Tensor]
        reciprocal: Callable[..., Tensor]
        abs: Callable[..., Tensor]
        sign: Callable[..., Tensor]
        sin: Callable[..., Tensor]
        cos: Callable[..., Tensor]
        clamp: Callable[..., Tensor]
        clip: Callable[..., Tensor]
        maximum: Callable[..., Tensor]
        minimum: Callable[..., Tensor]
        floor: Callable[..., Tensor]
        ceil: Callable[..., Tensor]
        round: Callable[..., Tensor]
        trunc: Callable[..., Tensor]
        eq: Callable[..., Tensor]
        ne: Callable[..., Tensor]
        lt: Callable[..., Tensor]
        le: Callable[..., Tensor]
        gt: Callable[..., Tensor]
        ge: Callable[..., Tensor]
        logical_and: Callable[..., Tensor]
        logical_or: Callable[..., Tensor]
        logical_xor: Callable[..., Tensor]
        logical_not: Callable[..., Tensor]
        isnan: Callable[..., Tensor]
        isinf: Callable[..., Tensor]
        isfinite: Callable[..., Tensor]
        isclose: Callable[..., Tensor]
        addcmul: Callable[..., Tensor]
        lerp: Callable[..., Tensor]
        sum: Callable[..., Tensor]
        mean: Callable[..., Tensor]
        var: Callable[..., Tensor]
        std: Callable[..., Tensor]
        amax: Callable[..., Tensor]
        amin: Callable[..., Tensor]
        prod: Callable[..., Tensor]
        argmax: Callable[..., Tensor]
        argmin: Callable[..., Tensor]
        logsumexp: Callable[..., Tensor]
        norm: Callable[..., Tensor]
        all: Callable[..., Tensor]
        any: Callable[..., Tensor]
        count_nonzero: Callable[..., Tensor]
        cumsum: Callable[..., Tensor]
        argsort: Callable[..., Tensor]
        reshape: Callable[..., Tensor]
        permute: Callable[..., Tensor]
        transpose: Callable[..., Tensor]
        swapaxes: Callable[..., Tensor]
        squeeze: Callable[..., Tensor]
        unsqueeze: Callable[..., Tensor]
        flatten: Callable[..., Tensor]
        unflatten: Callable[..., Tensor]
        expand: Callable[..., Tensor]
        flip: Callable[..., Tensor]
        repeat: Callable[..., Tensor]
        tile: Callable[..., Tensor]
        narrow: Callable[..., Tensor]
        t: Callable[..., Tensor]
        movedim: Callable[..., Tensor]
        gather: Callable[..., Tensor]
        masked_fill: Callable[..., Tensor]
        index_select: Callable[..., Tensor]
        relu: Callable[..., Tensor]
        sigmoid: Callable[..., Tensor]
        tanh: Callable[..., Tensor]
        softmax: Callable[..., Tensor]
        log_softmax: Callable[..., Tensor]
        matmul: Callable[..., Tensor]
        mm: Callable[..., Tensor]
        bmm: Callable[..., Tensor]
        dot: Callable[..., Tensor]
        outer: Callable[..., Tensor]
        broadcast_to: Callable[..., Tensor]
        scatter: Callable[..., Tensor]
        tril: Callable[..., Tensor]
        triu: Callable[..., Tensor]
        diagonal: Callable[..., Tensor]
        diag: Callable[..., Tensor]
        trace: Callable[..., Tensor]
        roll: Callable[..., Tensor]
        repeat_interleave: Callable[..., Tensor]
        masked_select: Callable[..., Tensor]
        kron: Callable[..., Tensor]
        addmm: Callable[..., Tensor]
        baddbmm: Callable[..., Tensor]
        mv: Callable[..., Tensor]
        inner: Callable[..., Tensor]
        isin: Callable[..., Tensor]
        bincount: Callable[..., Tensor]
        nan_to_num: Callable[..., Tensor]
        erf: Callable[..., Tensor]
        erfc: Callable[..., Tensor]
        atan: Callable[..., Tensor]
        atan2: Callable[..., Tensor]
        arctan: Callable[..., Tensor]
        sinh: Callable[..., Tensor]
        cosh: Callable[..., Tensor]
        hypot: Callable[..., Tensor]
        logaddexp: Callable[..., Tensor]
        xlogy: Callable[..., Tensor]
        logit: Callable[..., Tensor]
        fmod: Callable[..., Tensor]
        frac: Callable[..., Tensor]
        clamp_min: Callable[..., Tensor]
        clamp_max: Callable[..., Tensor]
        deg2rad: Callable[..., Tensor]
        rad2deg: Callable[..., Tensor]
        diag_embed: Callable[..., Tensor]
        cumprod: Callable[..., Tensor]
        logcumsumexp: Callable[..., Tensor]
        scatter_: Callable[..., Tensor]
        index_fill_: Callable[..., Tensor]
        fill_diagonal_: Callable[..., Tensor]
        unsqueeze_: Callable[..., Tensor]
        squeeze_: Callable[..., Tensor]
        exp_: Callable[..., Tensor]
        log_: Callable[..., Tensor]
        sqrt_: Callable[..., Tensor]
        abs_: Callable[..., Tensor]
        neg_: Callable[..., Tensor]
        floor_: Callable[..., Tensor]
        ceil_: Callable[..., Tensor]
        round_: Callable[..., Tensor]
        tanh_: Callable[..., Tensor]
        sigmoid_: Callable[..., Tensor]
        relu_: Callable[..., Tensor]
        apply_: Callable[..., Tensor]
        new_zeros: Callable[..., Tensor]
        new_ones: Callable[..., Tensor]
        new_empty: Callable[..., Tensor]
        new_full: Callable[..., Tensor]
        new_tensor: Callable[..., Tensor]
        view: Callable[..., Tensor]
        where: Callable[..., Tensor]
        expand_as: Callable[..., Tensor]
        view_as: Callable[..., Tensor]
        reshape_as: Callable[..., Tensor]
        type_as: Callable[..., Tensor]
        subtract: Callable[..., Tensor]
        multiply: Callable[..., Tensor]
        divide: Callable[..., Tensor]
        greater: Callable[..., Tensor]
        less: Callable[..., Tensor]
        equal: Callable[..., bool]
        allclose: Callable[..., bool]
        max: Callable[..., Any]
        min: Callable[..., Any]
        topk: Callable[..., Any]
        sort: Callable[..., Any]
        nonzero: Callable[..., Any]
        unique: Callable[..., Any]
        cummax: Callable[..., Any]
        cummin: Callable[..., Any]
        split: Callable[..., tuple[Tensor, ...]]
        chunk: Callable[..., tuple[Tensor, ...]]
        unbind: Callable[..., tuple[Tensor, ...]]
        index_add: Callable[..., Tensor]
        scatter_add: Callable[..., Tensor]
        quantile: Callable[..., Tensor]
        nanquantile: Callable[..., Tensor]
        nansum: Callable[..., Tensor]
        nanmean: Callable[..., Tensor]
        rot90: Callable[..., Tensor]
        flipud: Callable[..., Tensor]
        fliplr: Callable[..., Tensor]
        cross: Callable[..., Tensor]
        sgn: Callable[..., Tensor]
        signbit: Callable[..., Tensor]
        copysign: Callable[..., Tensor]
        unfold: Callable[..., Tensor]
        index_add_: Callable[..., Tensor]
        scatter_add_: Callable[..., Tensor]
        median: Callable[..., Any]
        kthvalue: Callable[..., Any]
        aminmax: Callable[..., Any]
        data_ptr: Callable[..., int]
        ndimension: Callable[..., int]

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None) -> None:
        if dtype is None and isinstance(data, (list, tuple)) and type(self) is Tensor:
            dtype = _dtype.default_float  # torch.Tensor([1, 2]) is float32 (shendu.tensor infers the dtype)
        self._array = as_array(data, dtype)
        self._grad = None
        self._creator = None
        self._output_index = 0
        self._generation = 0
        self._retains_grad = False
        self._requires_grad = False
        if requires_grad:
            self.requires_grad = True

    @staticmethod
    def _from_op(array, requires_grad):
        """Wrap an op's output array without checks (the hot path)."""
        t = _new_tensor(Tensor)
        t._array = array
        t._requires_grad = requires_grad
        t._grad = None
        t._creator = None
        t._output_index = 0
        t._generation = 0
        t._retains_grad = False
        return t

    # ----- autograd state -------------------------------------------------
    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag):
        if flag and self._array.dtype.kind != "f":
            raise TypeError(
                f"only floating-point tensors can require gradients; got dtype {self.dtype}. "
                "Convert first, e.g. x.float()"
            )
        if not flag and self._creator is not None:
            raise RuntimeError("you can only change requires_grad flags of leaf tensors; use detach() instead")
        self._requires_grad = bool(flag)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` in place; returns self."""
        self.requires_grad = requires_grad
        return self

    @property
    def grad(self):
        """The accumulated gradient (a Tensor of this tensor's shape and dtype), or None."""
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            value = value if isinstance(value, Tensor) else Tensor(value)
            if value.shape != self.shape:
                raise RuntimeError(f"assigned grad has shape {value.shape} but the tensor has shape {self.shape}")
        self._grad = value

    def _accumulate_grad(self, g, owned=False):
        """Add ``g`` to ``.grad``; ``owned``: ``g`` is an array nobody else holds, which may become ``.grad`` itself."""
        if isinstance(g, Tensor):  # create_graph: keep the gradient on the graph
            if self._grad is None:
                self._grad = g
            else:
                self._grad = self._grad + g
            return
        if self._grad is None:
            array = self._array
            if not (owned and g.dtype == array.dtype and g.shape == array.shape and g.flags.writeable):
                g = xp.array(g, dtype=array.dtype)  # a copy: NumPy may hand back a 0-d scalar or a read-only view
            self._grad = Tensor._from_op(g, False)
        else:
            xp.add(self._grad._array, g, out=self._grad._array, casting="unsafe")

    @property
    def is_leaf(self):
        return self._creator is None

    @property
    def grad_fn(self):
        return self._creator

    _hooks = None  # gradient hooks (register_hook), a list once one is registered

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned tensor replaces it.

        On a leaf the hook sees the total gradient once, before it is added to ``.grad``.
        Returns a handle whose ``remove()`` unregisters the hook.

        Example:
            >>> norms = []
            >>> w.register_hook(lambda g: norms.append(g.norm().item()))
        """
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(hook)
        if self._creator is not None:
            self._creator._retained = True  # backward looks at this function's outputs
        return _HookHandle(self._hooks, hook)

    def retain_grad(self) -> None:
        """Keep ``.grad`` on this non-leaf tensor after backward."""
        self._retains_grad = True
        if self._creator is not None:
            self._creator._retained = True

    def backward(self, gradient: Tensor | None = None, retain_graph: bool | None = None,
                 create_graph: bool = False) -> None:
        """Accumulate ∂self/∂leaf into every leaf's ``.grad`` (the chain rule, in reverse).

        Args:
            gradient: ∂L/∂self for a non-scalar tensor. Defaults to 1 for a scalar.
            retain_graph: keep the graph for another backward. Defaults to ``create_graph``.
            create_graph: make the gradients differentiable (higher-order gradients).
        """
        _backward(self, gradient, retain_graph, create_graph)

    def detach(self) -> Tensor:
        """A tensor sharing this one's data, cut from the graph."""
        return Tensor._from_op(self._array, False)

    def detach_(self) -> Tensor:
        self._creator = None
        self._requires_grad = False
        return self

    @property
    def data(self):
        """This tensor's data as a detached Tensor sharing storage (as ``torch.Tensor.data``)."""
        return Tensor._from_op(self._array, False)

    @data.setter
    def data(self, value):
        array = as_array(value)
        if array.dtype != self._array.dtype:
            array = array.astype(self._array.dtype)
        self._array = array

    # ----- description ----------------------------------------------------
    @property
    def shape(self):
        return Size(self._array.shape)

    def size(self, dim: int | None = None) -> Any:
        """The shape, or its length along ``dim``."""
        if dim is None:
            return Size(self._array.shape)
        return self._array.shape[self._dim(dim)]

    @property
    def ndim(self):
        return self._array.ndim

    def dim(self) -> int:
        return self._array.ndim

    def numel(self) -> int:
        return int(self._array.size)

    nelement = numel

    @property
    def dtype(self):
        return _dtype.from_numpy_dtype(self._array.dtype)

    @property
    def device(self):
        return _CPU

    @property
    def is_cuda(self):
        return False

    def is_floating_point(self) -> bool:
        return self._array.dtype.kind == "f"

    def element_size(self) -> int:
        return self._array.itemsize

    def __len__(self) -> int:
        if self._array.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._array.shape[0]

    def __format__(self, spec: str) -> str:
        """A 0-d tensor formats as its value (``f"{loss:.4f}"``), as in PyTorch; others only without a spec."""
        if self._array.ndim == 0:
            return format(self._array.item(), spec)
        if spec:
            raise TypeError("unsupported format string passed to Tensor.__format__")
        return str(self)

    def __repr__(self):
        array = self._array
        floatmode = "maxprec"
        if array.dtype.kind == "f" and array.size:
            finite = array[xp.isfinite(array)]
            if finite.size and (finite != xp.round(finite)).any():
                floatmode = "fixed"  # as PyTorch: 1.5000, not 1.5, once any value has a fraction
        options = PRINT_OPTIONS
        body = xp.array2string(array, separator=", ", prefix="tensor(", precision=options["precision"], floatmode=floatmode,
                               threshold=options["threshold"], edgeitems=options["edgeitems"], max_line_width=options["linewidth"],
                               suppress_small=options["sci_mode"] is False)  # fmt: skip
        extras = []
        if self._array.dtype not in (_dtype.default_float.numpy_dtype, xp.int64, xp.bool_):
            extras.append(f"dtype={self.dtype}")
        if self._creator is not None:
            extras.append(f"grad_fn=<{type(self._creator).__name__}Backward>")
        elif self._requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"

    def _dim(self, dim):
        ndim = max(self._array.ndim, 1)
        if not -ndim <= dim < ndim:
            raise IndexError(
                f"dimension out of range (expected to be in range of [{-ndim}, {ndim - 1}], but got {dim})"
            )
        return dim % ndim

    # ----- conversion -----------------------------------------------------
    def numpy(self, force: bool = False) -> np.ndarray:
        """The data as a NumPy array (shared, not copied)."""
        if self._requires_grad and not force:
            raise RuntimeError("can't call numpy() on a tensor that requires grad; use tensor.detach().numpy()")
        return self._array

    def __array__(self, dtype=None, copy=None):
        array = self._array if dtype is None else self._array.astype(dtype, copy=False)
        return array.copy() if copy and array is self._array else array

    def item(self) -> Any:
        """The value of a one-element tensor as a Python number."""
        if self._array.size != 1:
            raise ValueError(f"only one-element tensors can be converted to Python scalars; got shape {self.shape}")
        return self._array.reshape(()).item()

    def tolist(self) -> Any:
        return self._array.tolist()

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self._array.dtype.kind not in "iu" or self._array.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __bool__(self) -> builtins.bool:
        if self._array.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with {self._array.size} values is ambiguous")
        return bool(self._array.reshape(()))

    def __hash__(self):
        return id(self)

    def to(self, *args: Any, dtype: Any = None, device: Any = None, copy: bool = False, **kwargs: Any) -> Tensor:
        """Convert to a dtype and/or device: ``to(float64)``, ``to('cpu')``, ``to(other_tensor)``."""
        for arg in args:
            if isinstance(arg, Tensor):
                dtype = arg._array.dtype
            elif isinstance(arg, (str, globals()["device"])) and not (isinstance(arg, str) and arg in _dtype._BY_NAME):
                device = arg
            else:
                dtype = arg
        if device is not None:
            globals()["device"](device)
        if dtype is None:
            return self.clone() if copy else self
        target = _dtype.to_numpy_dtype(dtype)
        if target == self._array.dtype and not copy:
            return self
        from .ops.arithmetic import cast

        return cast(self, target)

    def type(self, dtype=None):
        """With no argument the PyTorch-style type name (``'shendu.FloatTensor'`` for float32,
        ``'shendu.LongTensor'`` for int64, ...); otherwise a tensor converted to ``dtype`` (a dtype,
        ``shendu.DoubleTensor`` and friends, or a name such as ``'shendu.DoubleTensor'``)."""
        if dtype is None:
            return f"shendu.{_TENSOR_TYPE_NAMES[self.dtype.name]}"
        if isinstance(dtype, str) and dtype.rpartition(".")[2] in _DTYPE_OF_TENSOR_TYPE:
            dtype = _DTYPE_OF_TENSOR_TYPE[dtype.rpartition(".")[2]]
        elif isinstance(getattr(dtype, "_dtype", None), _dtype.dtype):
            dtype = dtype._dtype  # shendu.FloatTensor and friends
        return self.to(dtype)

    def cpu(self) -> Tensor:
        return self

    def cuda(self, *args: Any, **kwargs: Any) -> Tensor:
        return self.to("cuda")

    def double(self) -> Tensor:
        return self.to(_dtype.float64)

    def float(self) -> Tensor:
        return self.to(_dtype.float32)

    def half(self) -> Tensor:
        return self.to(_dtype.float16)

    def long(self) -> Tensor:
        return self.to(_dtype.int64)

    def int(self) -> Tensor:
        return self.to(_dtype.int32)

    def bool(self) -> Tensor:
        return self.to(_dtype.bool)

    def clone(self) -> Tensor:
        from .ops.arithmetic import clone

        return clone(self)

    def contiguous(self) -> Tensor:
        return self

    def is_contiguous(self) -> builtins.bool:
        return True

    def stride(self, dim: builtins.int | None = None) -> Any:
        """Elements to step in memory for one step along each dimension (PyTorch's strides, in elements)."""
        strides = tuple(s // self._array.itemsize for s in self._array.strides)
        return strides if dim is None else strides[dim]

    def storage_offset(self) -> builtins.int:
        """Elements between the start of the memory this tensor views and its first element."""
        base = self._array
        while isinstance(base.base, np.ndarray):
            base = base.base
        start = self._array.__array_interface__["data"][0] - base.__array_interface__["data"][0]
        return start // self._array.itemsize

    # ----- in-place (no graph) ---------------------------------------------
    _version = 0  # bumped by every in-place change; ops that saved this tensor check it in backward

    def _check_inplace(self):
        """In-place changes are not recorded: refuse them where they would corrupt gradients.

        Called just before the change, it also bumps the version (as PyTorch's version counter).
        """
        if self._requires_grad and _grad_enabled():
            if self._creator is None:
                raise RuntimeError(
                    "a leaf tensor that requires grad is being used in an in-place operation; "
                    "wrap it in shendu.no_grad() or work on .data"
                )
            raise RuntimeError(
                f"in-place operations on a tensor that is part of a graph (grad_fn="
                f"{type(self._creator).__name__}Backward) are not supported: the ops that saved it would get "
                "wrong gradients; use the out-of-place form (y = y + 1 rather than y.add_(1))"
            )
        self._version += 1

    def zero_(self) -> Tensor:
        self._check_inplace()
        self._array[...] = 0
        return self

    def fill_(self, value: Any) -> Tensor:
        self._check_inplace()
        with xp.errstate(all="ignore"):
            self._array[...] = value
        return self

    def copy_(self, source: Any) -> Tensor:
        self._check_inplace()
        source = as_array(source)
        if (
            source.shape != self._array.shape
            and xp.broadcast_shapes(source.shape, self._array.shape) != self._array.shape
        ):
            raise ValueError(f"copy_: source of shape {source.shape} does not broadcast to {self.shape}")
        self._array[...] = source
        return self

    def add_(self, other: Any, alpha: Any = 1) -> Tensor:
        self._check_inplace()
        other = as_array(other)
        self._array += other * alpha if alpha != 1 else other
        return self

    def sub_(self, other: Any, alpha: Any = 1) -> Tensor:
        return self.add_(other, -alpha)

    def masked_fill_(self, mask: Tensor, value: Any) -> Tensor:
        """Set the elements where ``mask`` is True to ``value``, in place."""
        self._check_inplace()
        mask = mask._array if isinstance(mask, Tensor) else xp.asarray(mask)
        self._array[xp.broadcast_to(mask, self._array.shape)] = value.item() if isinstance(value, Tensor) else value
        return self

    def mul_(self, other: Any) -> Tensor:
        self._check_inplace()
        self._array *= as_array(other)
        return self

    def div_(self, other: Any) -> Tensor:
        self._check_inplace()
        self._array /= as_array(other)
        return self

    def clamp_(self, min: Any = None, max: Any = None) -> Tensor:
        self._check_inplace()
        xp.clip(self._array, min, max, out=self._array)
        return self

    def uniform_(self, a: builtins.float = 0.0, b: builtins.float = 1.0, generator: Any = None) -> Tensor:
        from .random import resolve_generator

        self._check_inplace()
        self._array[...] = resolve_generator(generator).uniform(a, b, self._array.shape)
        return self

    def normal_(self, mean: builtins.float = 0.0, std: builtins.float = 1.0, generator: Any = None) -> Tensor:
        from .random import resolve_generator

        self._check_inplace()
        self._array[...] = resolve_generator(generator).normal(mean, std, self._array.shape)
        return self

    def __setitem__(self, key: Any, value: Any) -> None:
        if self._requires_grad and _grad_enabled():
            raise RuntimeError(
                "item assignment on a tensor that requires grad is not supported; "
                "use shendu.where / masked_fill, or assign inside shendu.no_grad()"
            )
        key = _index_key(key)
        with xp.errstate(all="ignore"):
            self._array[key] = as_array(value)
        self._version += 1

    # ----- operators -------------------------------------------------------
    def __add__(self, other: Any) -> Tensor:
        return _ops().add(self, other)

    def __radd__(self, other: Any) -> Tensor:
        return _ops().add(other, self)

    def __sub__(self, other: Any) -> Tensor:
        return _ops().sub(self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return _ops().sub(other, self)

    def __mul__(self, other: Any) -> Tensor:
        return _ops().mul(self, other)

    def __rmul__(self, other: Any) -> Tensor:
        return _ops().mul(other, self)

    def __truediv__(self, other: Any) -> Tensor:
        return _ops().div(self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return _ops().div(other, self)

    def __floordiv__(self, other: Any) -> Tensor:
        return _ops().floor_divide(self, other)

    def __mod__(self, other: Any) -> Tensor:
        return _ops().remainder(self, other)

    def __pow__(self, exponent: Any) -> Tensor:
        return _ops().pow(self, exponent)

    def __rpow__(self, base: Any) -> Tensor:
        return _ops().pow(base, self)

    def __neg__(self) -> Tensor:
        return _ops().neg(self)

    def __pos__(self) -> Tensor:
        return self

    def __abs__(self) -> Tensor:
        return _ops().abs(self)

    def __matmul__(self, other: Any) -> Tensor:
        return _ops().matmul(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return _ops().matmul(other, self)

    def _inplace(self, numpy_function, other, out_of_place):
        """``x op= other``: in place when no graph is recorded (a leaf that requires grad must be
        under ``no_grad``, as in PyTorch); a graph node is rebound to the out-of-place result."""
        if self._requires_grad and _grad_enabled():
            if self._creator is None:
                self._check_inplace()  # raises: a leaf must be updated under no_grad
            return out_of_place(self, other)
        other = other._array if isinstance(other, Tensor) else as_array(other)
        with xp.errstate(all="ignore"):
            numpy_function(self._array, other.astype(self._array.dtype, copy=False), out=self._array)
        self._version += 1
        return self

    def __iadd__(self, other: Any) -> Tensor:
        return self._inplace(xp.add, other, Tensor.__add__)

    def __isub__(self, other: Any) -> Tensor:
        return self._inplace(xp.subtract, other, Tensor.__sub__)

    def __imul__(self, other: Any) -> Tensor:
        return self._inplace(xp.multiply, other, Tensor.__mul__)

    def __itruediv__(self, other: Any) -> Tensor:
        if self._array.dtype.kind != "f":
            raise RuntimeError(
                f"result type float can't be cast to the desired output type {self.dtype.name}: use x = x / y"
            )
        return self._inplace(xp.true_divide, other, Tensor.__truediv__)

    def __eq__(self, other: object) -> Any:  # elementwise (a Tensor); False against None, as PyTorch
        if other is None:  # as PyTorch: so ``t in [None, ...]`` and ``t == None`` work
            return False
        return _ops().eq(self, other)

    def __ne__(self, other: object) -> Any:  # elementwise (a Tensor); True against None
        if other is None:
            return True
        return _ops().ne(self, other)

    def __lt__(self, other: Any) -> Tensor:
        return _ops().lt(self, other)

    def __le__(self, other: Any) -> Tensor:
        return _ops().le(self, other)

    def __gt__(self, other: Any) -> Tensor:
        return _ops().gt(self, other)

    def __ge__(self, other: Any) -> Tensor:
        return _ops().ge(self, other)

    def __and__(self, other: Any) -> Tensor:
        return _ops().logical_and(self, other)

    def __or__(self, other: Any) -> Tensor:
        return _ops().logical_or(self, other)

    def __xor__(self, other: Any) -> Tensor:
        return _ops().logical_xor(self, other)

    def __invert__(self) -> Tensor:
        return _ops().logical_not(self)

    def __getitem__(self, key: Any) -> Tensor:
        return _ops().index(self, key)

    def __iter__(self) -> Iterator[Tensor]:
        if self._array.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._array.shape[0]))

    @property
    def T(self):
        """All dimensions reversed (the transpose of a matrix)."""
        if self._array.ndim < 2:
            return self
        return _ops().shape.Permute(tuple(range(self._array.ndim - 1, -1, -1)))(self)

    @property
    def mT(self):
        return _ops().transpose(self, -2, -1)


def _quietly(method):
    """An in-place method with NumPy's floating-point warnings off (an overflow gives inf, silently, as PyTorch)."""

    @functools.wraps(method)
    def quiet(self, *args, **kwargs):
        with _autograd.quiet_numpy():
            return method(self, *args, **kwargs)

    return quiet


for _name, _method in list(vars(Tensor).items()):
    if _name.endswith("_") and not _name.startswith("_") and callable(_method):
        setattr(Tensor, _name, _quietly(_method))
del _name, _method


class _HookHandle:
    """What ``register_hook`` returns: ``remove()`` takes the hook off again."""

    def __init__(self, hooks, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self):
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


_new_tensor = object.__new__
_autograd.Tensor, _autograd._wrap = Tensor, Tensor._from_op


class Size(tuple):
    """A tensor's shape: a tuple, as ``torch.Size``."""

    def numel(self):
        n = 1
        for s in self:
            n *= s
        return n

    def __repr__(self):
        return f"shendu.Size({list(self)})"


def _grad_enabled():
    from .autograd import is_grad_enabled

    return is_grad_enabled()


def _index_key(key):
    """Translate an index that may hold tensors into one NumPy understands."""
    if isinstance(key, Tensor):
        return key._array
    if isinstance(key, tuple):
        return tuple(k._array if isinstance(k, Tensor) else k for k in key)
    if isinstance(key, list):
        return xp.asarray([k.item() if isinstance(k, Tensor) else k for k in key])
    return key


_ops_module = None


def _ops():
    """The ops namespace (imported lazily: ops import this module)."""
    global _ops_module
    if _ops_module is None:
        from . import ops

        _ops_module = ops
    return _ops_module
