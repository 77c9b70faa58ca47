"""Matrix products: matmul (1-D, 2-D, batched), mm, bmm, dot, outer, and the fused linear map."""

from .._backend import xp
from .._parallel import quiet_blas
from ..autograd import Function, sum_to
from ..tensor import Tensor, _binary_operands
from .dtype_check import check_same_dtype

__all__ = ["matmul", "mm", "bmm", "dot", "outer", "linear", "einsum"]


def _swap_last(x):
    if isinstance(x, Tensor):
        from .shape import transpose

        return transpose(x, -1, -2)
    return xp.swapaxes(x, -1, -2)


def _matmul(a, b):
    if isinstance(a, Tensor):
        return MatMul()(a, b)
    return a @ b


class MatMul(Function):
    """y = a @ b; ∂L/∂a = gy @ bᵀ, ∂L/∂b = aᵀ @ gy (1-D operands promoted and squeezed back)."""

    differentiable_backward = True

    def forward(self, a, b):
        return xp.matmul(a, b)

    def backward(self, gy):
        a, b = self.input_values()
        need_a, need_b = self.needs_input_grad
        a_vec, b_vec = a.ndim == 1, b.ndim == 1
        a2 = a.reshape((1,) + tuple(a.shape)) if a_vec else a
        b2 = b.reshape(tuple(b.shape) + (1,)) if b_vec else b
        g = gy
        if a_vec:
            g = g.reshape(tuple(g.shape[:-1]) + (1,) + tuple(g.shape[-1:])) if not b_vec else g.reshape((1,))
        if b_vec:
            g = g.reshape(tuple(g.shape) + (1,))
        if a_vec and b_vec:
            g = gy.reshape((1, 1))
        ga = gb = None
        if need_a:
            ga = sum_to(_matmul(g, _swap_last(b2)), tuple(a2.shape))
            ga = ga.reshape(tuple(a.shape)) if a_vec else ga
        if need_b:
            gb = sum_to(_matmul(_swap_last(a2), g), tuple(b2.shape))
            gb = gb.reshape(tuple(b.shape)) if b_vec else gb
        return ga, gb


def _check_matmul(name, a, b):
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"{name}: both arguments need at least 1 dimension; got shapes {tuple(a.shape)} and {tuple(b.shape)}")
    inner_a = a.shape[-1]
    inner_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if inner_a != inner_b:
        raise ValueError(
            f"{name}: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be multiplied "
            f"({inner_a} columns in the first, {inner_b} rows in the second)"
        )
    if a.ndim > 2 and b.ndim > 2:
        try:
            xp.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        except ValueError:
            raise ValueError(f"{name}: batch dimensions of {tuple(a.shape)} and {tuple(b.shape)} are not broadcastable") from None


def matmul(input, other):
    """Matrix product with NumPy/PyTorch rules for 1-D and batched operands."""
    a, b = _binary_operands(input, other)
    _check_matmul("matmul", a, b)
    return MatMul()(a, b)


def mm(input, mat2):
    """2-D matrix product."""
    if input.ndim != 2 or mat2.ndim != 2:
        raise ValueError(f"mm: expected 2-D tensors; got shapes {tuple(input.shape)} and {tuple(mat2.shape)}")
    return matmul(input, mat2)


def bmm(input, mat2):
    """Batched matrix product of (b, n, m) and (b, m, p)."""
    if input.ndim != 3 or mat2.ndim != 3 or input.shape[0] != mat2.shape[0]:
        raise ValueError(f"bmm: expected (b, n, m) and (b, m, p) tensors; got shapes {tuple(input.shape)} and {tuple(mat2.shape)}")
    return matmul(input, mat2)


def dot(input, other):
    if input.ndim != 1 or other.ndim != 1:
        raise ValueError(f"dot: expected 1-D tensors; got shapes {tuple(input.shape)} and {tuple(other.shape)}")
    return matmul(input, other)


def outer(input, vec2):
    from .shape import unsqueeze

    return unsqueeze(input, 1) * unsqueeze(vec2, 0)


class Linear(Function):
    """Fused y = x Wᵀ + b (one BLAS call forward, three backward).

    NOTE: the bias gradient is a ones-vector matmul, several times faster than sum(axis=0).
    With ``create_graph`` the same three products are built from differentiable ops.
    """

    differentiable_backward = True

    def forward(self, x, weight, bias=None):
        self.x_shape = x.shape
        x2 = x.reshape(-1, x.shape[-1]) if x.ndim != 2 else x
        with quiet_blas():
            y = x2 @ weight.T
        if bias is not None:
            y += bias
        return y.reshape(x.shape[:-1] + (weight.shape[0],)) if x.ndim != 2 else y

    def backward(self, gy):
        x, weight = self.input_values()[:2]
        needs = self.needs_input_grad
        if isinstance(gy, Tensor):
            return self._graph_backward(gy, x, weight, needs)
        g2 = gy.reshape(-1, gy.shape[-1]) if gy.ndim != 2 else gy
        gx = gw = gb = None
        with quiet_blas():
            if needs[0]:
                gx = (g2 @ weight).reshape(self.x_shape)
            if needs[1]:
                x2 = x.reshape(-1, x.shape[-1]) if x.ndim != 2 else x
                gw = g2.T @ x2
            if len(needs) > 2 and needs[2]:
                gb = xp.ones(g2.shape[0], dtype=g2.dtype) @ g2
        return gx, gw, gb

    def _graph_backward(self, gy, x, weight, needs):
        g2 = gy.reshape(-1, gy.shape[-1])
        gx = matmul(g2, weight).reshape(self.x_shape) if needs[0] else None
        gw = matmul(g2.T, x.reshape(-1, x.shape[-1])) if needs[1] else None
        gb = g2.sum(0) if len(needs) > 2 and needs[2] else None
        return gx, gw, gb


def linear(input, weight, bias=None):
    """y = x Wᵀ + b with ``weight`` of shape (out_features, in_features)."""
    if input.ndim == 0 or input.shape[-1] != weight.shape[-1]:
        raise ValueError(
            f"linear: input of shape {tuple(input.shape)} does not match weight of shape {tuple(weight.shape)}; "
            f"expected input of shape (*, {weight.shape[-1]})"
        )
    if input._array.dtype != weight._array.dtype:
        check_same_dtype("linear", input, weight)
    if bias is None:
        return Linear()(input, weight)
    return Linear()(input, weight, bias)


def einsum(equation, *operands):
    """Einstein summation over tensors (gradient via einsum of the other operands)."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    return Einsum(equation)(*operands)


class Einsum(Function):
    """Einstein summation; the gradient of each operand is an einsum of ``gy`` with the others.

    NOTE: a letter repeated in one operand (``ii->i``) is a diagonal: its gradient is spread back
    with an identity matrix; a letter summed away within one operand only (``ij->``) broadcasts back.
    """

    differentiable_backward = True

    def __init__(self, equation):
        inputs, arrow, output = equation.replace(" ", "").partition("->")
        if "." in inputs:
            raise ValueError(f"einsum: ellipsis ('...') is not supported; got {equation!r}")
        self.terms = inputs.split(",")
        if not arrow:
            output = "".join(sorted(c for c in set(inputs.replace(",", "")) if inputs.count(c) == 1))
        self.output = output

    def forward(self, *arrays):
        if len(arrays) != len(self.terms):
            raise ValueError(f"einsum: the equation names {len(self.terms)} operands but {len(arrays)} were given")
        return xp.einsum(",".join(self.terms) + "->" + self.output, *arrays)

    def _gradient(self, gy, i):
        values = self.input_values()
        term, shape = self.terms[i], tuple(values[i].shape)
        as_tensor = isinstance(gy, Tensor)
        used = set("".join(self.terms) + self.output)
        fresh = (c for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in used)
        terms = [self.output] + [t for j, t in enumerate(self.terms) if j != i]
        arrays = [gy] + [a for j, a in enumerate(values) if j != i]
        target = ""
        for position, letter in enumerate(term):
            if letter in target:  # a diagonal: a fresh letter tied to the first by an identity matrix
                new = next(fresh)
                terms.append(letter + new)
                eye = xp.eye(shape[position], dtype=gy._array.dtype if as_tensor else gy.dtype)
                arrays.append(Tensor._from_op(eye, False) if as_tensor else eye)
                letter = new
            target += letter
        available = set("".join(terms))
        present = "".join(c for c in target if c in available)
        spec = ",".join(terms) + "->" + present
        kept = tuple(n if c in available else 1 for c, n in zip(target, shape))
        if as_tensor:
            from .reduction import broadcast_to

            return broadcast_to(Einsum(spec)(*arrays).reshape(kept), shape)
        return xp.broadcast_to(xp.einsum(spec, *arrays).reshape(kept), shape).astype(gy.dtype, copy=False)

    def backward(self, gy):
        return tuple(self._gradient(gy, i) if need else None for i, need in enumerate(self.needs_input_grad))
