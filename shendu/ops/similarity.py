"""Similarities, gates and pixel rearrangements (PyTorch's functional forms): ``cosine_similarity``,
``pairwise_distance``, ``glu``, ``pixel_shuffle``, ``pixel_unshuffle``; compositions of differentiable ops."""


__all__ = ["cosine_similarity", "pairwise_distance", "glu", "pixel_shuffle", "pixel_unshuffle", "gumbel_softmax"]


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """x₁·x₂ / (max(‖x₁‖, eps)·max(‖x₂‖, eps)) along ``dim`` (PyTorch's formula)."""
    dot = (x1 * x2).sum(dim=dim)
    n1 = x1.norm(dim=dim).clamp(min=eps)
    n2 = x2.norm(dim=dim).clamp(min=eps)
    return dot / (n1 * n2)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """‖x₁ − x₂ + eps‖_p along the last dimension."""
    return (x1 - x2 + eps).norm(p=p, dim=-1, keepdim=keepdim)


def glu(input, dim=-1):
    """a ⊗ σ(b), (a, b) the halves of ``dim``."""
    from .activation import sigmoid

    if input.shape[dim] % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {dim % input.ndim} is size {input.shape[dim]}")
    a, b = input.chunk(2, dim)
    return a * sigmoid(b)


def pixel_shuffle(input, upscale_factor):
    """(…, C·r², H, W) → (…, C, H·r, W·r)."""
    r = int(upscale_factor)
    *lead, c, h, w = input.shape
    if c % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of upscale_factor, but input.size(-3)={c} is not divisible by {r * r}")
    x = input.reshape(*lead, c // (r * r), r, r, h, w)
    n = len(lead)
    x = x.permute(*range(n), n, n + 3, n + 1, n + 4, n + 2)
    return x.reshape(*lead, c // (r * r), h * r, w * r)


def pixel_unshuffle(input, downscale_factor):
    """(…, C, H·r, W·r) → (…, C·r², H, W)."""
    r = int(downscale_factor)
    *lead, c, h, w = input.shape
    if h % r or w % r:
        raise RuntimeError(f"pixel_unshuffle expects height and width to be divisible by downscale_factor {r}")
    x = input.reshape(*lead, c, h // r, r, w // r, r)
    n = len(lead)
    x = x.permute(*range(n), n, n + 2, n + 4, n + 1, n + 3)
    return x.reshape(*lead, c * r * r, h // r, w // r)




def gumbel_softmax(logits, tau=1.0, hard=False, eps=1e-10, dim=-1):
    """softmax((logits + Gumbel noise)/tau) from shendu's generator; ``hard``: one-hot forward, soft gradient."""
    import numpy as np

    from ..random import resolve_generator
    from ..tensor import Tensor
    from .activation import softmax

    noise = -np.log(resolve_generator().exponential(size=tuple(logits.shape))).astype(logits._array.dtype)
    soft = softmax((logits + Tensor(noise)) / tau, dim)
    if not hard:
        return soft
    index = soft._array.argmax(axis=dim)
    one_hot = np.zeros_like(soft._array)
    np.put_along_axis(one_hot, np.expand_dims(index, dim), 1, axis=dim)
    return Tensor(one_hot) - soft.detach() + soft
