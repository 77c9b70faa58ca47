"""Build hook: the optional C kernels (everything else is in pyproject.toml).

shendu.optim._fused (the one-pass Adam update), shendu.ops._lstm_cell (an LSTM step's gates) and
shendu.ops._conv (direct channels-last convolution), shendu.ops._batch_norm (batch norm's passes) and
shendu.ops._activation (ReLU's backward pass).
``optional=True``: without a C compiler they are skipped, the install still succeeds and the NumPy
code runs (see shendu/_compiled.py). ``SHENDU_PURE_PYTHON=1`` leaves them out on purpose: the wheel
is then the pure-Python ``py3-none-any`` one (``make dist`` builds both kinds from the sdist).
"""

import os

from setuptools import Extension, setup

PURE_PYTHON = os.environ.get("SHENDU_PURE_PYTHON", "").strip().lower() in ("1", "true", "yes", "on")

# no fused multiply-add (the same roundings as the NumPy code); without errno and trapping (neither
# changes a result) sqrt and the branch-free selects of exp and tanh vectorise
FLAGS = ["-O3", "-ffp-contract=off", "-fno-math-errno", "-fno-trapping-math", "-std=c99"]
# the convolution's sums are compared within float32 tolerance, not bit for bit: fused multiply-adds allowed
CONV_FLAGS = ["-O3", "-ffp-contract=fast", "-fno-math-errno", "-fno-trapping-math", "-std=c99"]

setup(
    ext_modules=[] if PURE_PYTHON else [
        Extension(
            name, sources=[source], include_dirs=["shendu"], depends=["shendu/_buffers.h"], extra_compile_args=flags,
            optional=True,
        )
        for name, source, flags in [
            ("shendu.optim._fused", "shendu/optim/_fused.c", FLAGS),
            ("shendu.ops._lstm_cell", "shendu/ops/_lstm_cell.c", FLAGS),
            ("shendu.ops._conv", "shendu/ops/_conv.c", CONV_FLAGS),
            ("shendu.ops._batch_norm", "shendu/ops/_batch_norm.c", FLAGS),
            ("shendu.ops._activation", "shendu/ops/_activation.c", FLAGS),
        ]
    ]
)
