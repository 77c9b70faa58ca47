"""``shendu.linalg``: linear algebra with gradients (PyTorch's ``torch.linalg`` names).

``inv``: ∂ = −A⁻ᵀ·G·A⁻ᵀ; ``det``: ∂ = G·det(A)·A⁻ᵀ; ``solve(A, B)`` = A⁻¹B through ``inv``;
norms through the differentiable ``norm``.
"""

import numpy as np

from .autograd import Function
from .tensor import Tensor, as_array

__all__ = ["inv", "det", "slogdet", "solve", "norm", "vector_norm", "matrix_norm", "LinAlgError"]


class LinAlgError(RuntimeError):
    """A matrix that is singular where an inverse was needed."""


def _matrix(value, name):
    a = value if isinstance(value, Tensor) else Tensor(as_array(value))
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise RuntimeError(f"linalg.{name}: A must be batches of square matrices, but they are {tuple(a.shape[-2:]) if a.ndim >= 2 else tuple(a.shape)} matrices")
    if a._array.dtype.kind != "f":
        raise RuntimeError(f"linalg.{name}: Expected a floating point tensor as input. Got {a.dtype}")
    return a


class Inverse(Function):
    differentiable_backward = True

    def forward(self, a):
        try:
            self.y = np.linalg.inv(a)
        except np.linalg.LinAlgError:
            raise LinAlgError("linalg.inv: The diagonal element 1 is zero, the inversion could not be completed because the input matrix is singular.") from None
        return self.y

    def backward(self, gy):
        if isinstance(gy, Tensor):
            inverse = inv(self.inputs[0])
            t = inverse.transpose(-2, -1)
            return -(t @ gy @ t)
        t = np.swapaxes(self.y, -1, -2)
        return -(t @ gy @ t)


class Determinant(Function):
    def forward(self, a):
        self.y = np.linalg.det(a)
        return np.asarray(self.y, dtype=a.dtype)

    def backward(self, gy):
        (a,) = self.input_values()
        inverse_t = np.swapaxes(np.linalg.inv(a), -1, -2)
        return (gy * self.y)[..., None, None] * inverse_t


def inv(A):
    """The inverse of a (batch of) square matrix; LinAlgError when singular."""
    return Inverse()(_matrix(A, "inv"))


def det(A):
    """The determinant of a (batch of) square matrix."""
    return Determinant()(_matrix(A, "det"))


def slogdet(A):
    """(sign, log|det|) of a (batch of) square matrix (no gradient)."""
    sign, logabs = np.linalg.slogdet(_matrix(A, "slogdet")._array)
    return Tensor(sign), Tensor(logabs)


def solve(A, B, *, left=True):
    """X with A·X = B (``left``) or X·A = B."""
    inverse = inv(A)
    b = B if isinstance(B, Tensor) else Tensor(as_array(B))
    if left:
        return inverse @ b if b.ndim >= 2 and b.ndim == inverse.ndim else (inverse @ b.unsqueeze(-1)).squeeze(-1)
    return b @ inverse


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """The ``ord``-norm of ``x`` flattened (or along ``dim``)."""
    x = x if isinstance(x, Tensor) else Tensor(as_array(x))
    if dim is None:
        x, dim = x.reshape(-1), 0
    return x.norm(p=ord, dim=dim, keepdim=keepdim)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    """The Frobenius norm of the matrices of ``A`` (the only ``ord`` available)."""
    if ord != "fro":
        raise NotImplementedError(f"linalg.matrix_norm: ord={ord!r} is not available; shendu computes 'fro'")
    return ((A * A).sum(dim=dim, keepdim=keepdim)).sqrt()


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    """``vector_norm`` (vectors, or ``ord`` None with ``dim`` an int/None) or ``matrix_norm`` ("fro")."""
    A = A if isinstance(A, Tensor) else Tensor(as_array(A))
    if ord == "fro" or (ord is None and isinstance(dim, (tuple, list)) and len(dim) == 2):
        return matrix_norm(A, "fro", dim if dim is not None else (-2, -1), keepdim)
    return vector_norm(A, 2 if ord is None else ord, dim, keepdim)
