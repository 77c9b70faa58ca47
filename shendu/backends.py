"""``shendu.backends``: the switches programs written for PyTorch set (``torch.backends.cudnn.benchmark = True``,
``torch.backends.mps.is_available()``), answered for a CPU-only library: they are accepted and change nothing."""

from types import SimpleNamespace

__all__ = ["cudnn", "mps", "cuda", "mkldnn", "openmp"]

cudnn = SimpleNamespace(enabled=True, benchmark=False, deterministic=False, allow_tf32=True, is_available=lambda: False,
                        version=lambda: None)  # fmt: skip
mps = SimpleNamespace(is_available=lambda: False, is_built=lambda: False)
cuda = SimpleNamespace(is_built=lambda: False, matmul=SimpleNamespace(allow_tf32=False, allow_fp16_reduced_precision_reduction=True))
mkldnn = SimpleNamespace(is_available=lambda: False, enabled=False)
openmp = SimpleNamespace(is_available=lambda: False)
