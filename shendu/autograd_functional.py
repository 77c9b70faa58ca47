"""``shendu.autograd.functional``: Jacobians and Hessians of functions of tensors (PyTorch's ``jacobian``,
``hessian``, ``vjp``), one reverse pass per output element."""

import numpy as np

from .autograd import grad
from .tensor import Tensor

__all__ = ["jacobian", "hessian", "vjp"]


def _tuple(value):
    return (value,) if isinstance(value, Tensor) else tuple(value)


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), vᵀ·J): the output and the vector-Jacobian product."""
    inputs_t = tuple(x.detach().requires_grad_(True) for x in _tuple(inputs))
    output = func(*inputs_t)
    v = Tensor(np.ones_like(output._array)) if v is None else v
    grads = grad(output, inputs_t, v, create_graph=create_graph, allow_unused=True)
    grads = tuple(Tensor(np.zeros_like(x._array)) if g is None else g for g, x in zip(grads, inputs_t))
    return output, grads[0] if isinstance(inputs, Tensor) else grads


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy="reverse-mode"):
    """∂func(inputs)/∂inputs, shaped output.shape + input.shape (a tuple per input when there are several)."""
    single = isinstance(inputs, Tensor)
    inputs_t = tuple(x.detach().requires_grad_(True) for x in _tuple(inputs))
    output = func(*inputs_t)
    rows = [[] for _ in inputs_t]
    flat = output.reshape(-1)
    for index in range(flat.shape[0]):
        grads = grad(flat[index], inputs_t, retain_graph=True, create_graph=create_graph, allow_unused=True)
        for store, g, x in zip(rows, grads, inputs_t):
            store.append(Tensor(np.zeros_like(x._array)) if g is None else g)
    from .ops.shape import reshape, stack

    jacobians = tuple(reshape(stack(store), (*output.shape, *x.shape)) for store, x in zip(rows, inputs_t))
    return jacobians[0] if single else jacobians


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False, outer_jacobian_strategy="reverse-mode"):
    """The matrix of second derivatives of a scalar function (input.shape + input.shape)."""
    if not isinstance(inputs, Tensor):
        raise NotImplementedError("hessian: a single input tensor is supported")

    def gradient(x):
        (g,) = grad(func(x), (x,), create_graph=True)
        return g

    return jacobian(gradient, inputs, create_graph=create_graph)
