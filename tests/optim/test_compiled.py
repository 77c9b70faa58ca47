"""The optional compiled Adam kernel (C extension shendu.optim._fused): the NumPy kernel's numbers, bit for bit.

Both kernels do the same float operations in the same order, so which one ran must never show in a
result. The parity tests against PyTorch (test_optimizers.py) run whichever is active — the compiled
one wherever pip could build it, as here.
"""

import itertools
import os
import subprocess
import sys

import numpy as np
import pytest

import shendu
from shendu.optim import _compiled


needs_kernel = pytest.mark.skipif(not _compiled.available(), reason="shendu.optim._fused was not built")
SHAPES = [(300, 70), (7,), (20000,), (3, 3), (1,)]


def _train(compiled, dtype, steps=12, shapes=SHAPES, threaded=None, optimizer=shendu.optim.Adam, **options):
    """Parameters and state_dict after ``steps`` steps on fixed random gradients, with or without the kernel."""
    previous = _compiled.set_enabled(compiled)
    try:
        rng = np.random.default_rng(7)
        params = [shendu.nn.Parameter(shendu.tensor(rng.standard_normal(s).astype(dtype))) for s in shapes]
        opt = optimizer(params, lr=1e-2, **options)
        for _ in range(steps):
            for p in params:
                p.grad = shendu.tensor(rng.standard_normal(p.shape).astype(dtype))
            if threaded is not None:
                for bucket in opt._buckets(0):
                    bucket.timer.choose = lambda: threaded
            opt.step()
        return [p.detach().numpy().copy() for p in params], opt.state_dict()
    finally:
        _compiled.set_enabled(previous)


def _assert_identical(first, second):
    (params_a, state_a), (params_b, state_b) = first, second
    for a, b in zip(params_a, params_b):
        np.testing.assert_array_equal(a, b)
    assert state_a["state"].keys() == state_b["state"].keys()
    for key, entries in state_a["state"].items():
        for name, value in entries.items():
            other = state_b["state"][key][name]
            if value is None:
                assert other is None
            else:
                np.testing.assert_array_equal(np.asarray(value), np.asarray(other), err_msg=f"state {key}.{name}")


@needs_kernel
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "amsgrad, maximize, weight_decay, decoupled",
    list(itertools.product([False, True], [False, True], [0, 0.1], [False, True])),
)
def test_compiled_adam_equals_numpy_kernel_bit_for_bit(dtype, amsgrad, maximize, weight_decay, decoupled):
    options = dict(amsgrad=amsgrad, maximize=maximize, weight_decay=weight_decay, decoupled_weight_decay=decoupled)
    _assert_identical(_train(True, dtype, **options), _train(False, dtype, **options))


@needs_kernel
@pytest.mark.parametrize("threaded", [True, False])
def test_compiled_adamw_shared_between_threads_equals_numpy_kernel(monkeypatch, threaded):
    monkeypatch.setenv("SHENDU_NUM_THREADS", "2")
    shapes = [(600, 700), (5,), (300, 40)]  # large enough to be shared between two threads
    compiled = _train(True, np.float32, shapes=shapes, threaded=threaded, optimizer=shendu.optim.AdamW)
    _assert_identical(compiled, _train(False, np.float32, shapes=shapes, optimizer=shendu.optim.AdamW))


@needs_kernel
def test_compiled_adam_handles_non_contiguous_and_frozen_parameters():
    def run(compiled):
        previous = _compiled.set_enabled(compiled)
        try:
            rng = np.random.default_rng(3)
            base = rng.standard_normal((40, 30)).astype(np.float32)
            strided = shendu.nn.Parameter(shendu.tensor(base).T)  # not C-contiguous
            dense = shendu.nn.Parameter(shendu.tensor(rng.standard_normal(50).astype(np.float32)))
            frozen = shendu.nn.Parameter(shendu.tensor(np.ones(4, np.float32)))
            opt = shendu.optim.Adam([strided, dense, frozen], lr=0.05)
            for _ in range(5):
                strided.grad = shendu.tensor(rng.standard_normal(strided.shape).astype(np.float32))
                dense.grad = shendu.tensor(rng.standard_normal(50).astype(np.float32))
                opt.step()  # frozen has no gradient: a subset plan
            return [p.detach().numpy().copy() for p in (strided, dense, frozen)], opt.state_dict()
        finally:
            _compiled.set_enabled(previous)

    first, second = run(True), run(False)
    _assert_identical(first, second)
    np.testing.assert_array_equal(first[0][2], np.ones(4, np.float32))


@needs_kernel
def test_compiled_adam_resumes_from_a_state_dict_bit_for_bit():
    rng = np.random.default_rng(11)
    start = rng.standard_normal(1000).astype(np.float32)
    grads = [rng.standard_normal(1000).astype(np.float32) for _ in range(10)]

    def run(compiled_first, compiled_second):
        p = shendu.nn.Parameter(shendu.tensor(start.copy()))
        opt = shendu.optim.Adam([p], lr=1e-2)
        for index, g in enumerate(grads):
            previous = _compiled.set_enabled(compiled_first if index < 5 else compiled_second)
            try:
                if index == 5:  # resume in a fresh optimiser
                    saved = opt.state_dict()
                    opt = shendu.optim.Adam([p], lr=1e-2)
                    opt.load_state_dict(saved)
                p.grad = shendu.tensor(g)
                opt.step()
            finally:
                _compiled.set_enabled(previous)
        return p.detach().numpy()

    np.testing.assert_array_equal(run(True, False), run(False, True))


def test_other_dtypes_and_switched_off_use_the_numpy_kernel():
    previous = _compiled.set_enabled(True)
    try:
        assert _compiled.adam_kernel(np.dtype(np.float16)) is None
        assert _compiled.adam_kernel(np.dtype(np.int64)) is None
        _compiled.set_enabled(False)
        assert not _compiled.enabled()
        assert _compiled.adam_kernel(np.dtype(np.float32)) is None
    finally:
        _compiled.set_enabled(previous)
    p = shendu.nn.Parameter(shendu.tensor(np.ones(3, np.float16)))
    p.grad = shendu.tensor(np.ones(3, np.float16))
    shendu.optim.Adam([p], lr=0.5).step()
    np.testing.assert_allclose(p.detach().numpy(), 0.5, atol=1e-3)


def _python(code, **env):
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env={**os.environ, **env}
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_the_kernel_is_built_in_the_development_install():
    # pip builds it wherever a C compiler exists (setup.py: optional=True); the dev set-up has one
    assert _compiled.available()


def test_environment_variable_switches_the_kernel_off():
    code = (
        "from shendu.optim import _compiled; import numpy\n"
        "print(_compiled.enabled(), _compiled.adam_kernel(numpy.dtype('float32')))"
    )
    assert _python(code, SHENDU_COMPILED="0") == "False None"


def test_without_the_extension_adam_runs_the_numpy_kernel():
    code = (
        "import sys; sys.modules['shendu.optim._fused'] = None\n"  # makes importing it raise ImportError
        "import numpy, shendu\n"
        "from shendu.optim import _compiled\n"
        "p = shendu.nn.Parameter(shendu.ones(3)); p.grad = shendu.ones(3)\n"
        "shendu.optim.Adam([p], lr=0.1).step()\n"
        "print(_compiled.available(), _compiled.adam_kernel(numpy.dtype('float32')), round(float(p[0]), 4))"
    )
    assert _python(code) == "False None 0.9"


@needs_kernel
def test_the_kernel_refuses_arrays_it_cannot_update():
    kernel = _compiled.adam_kernel(np.dtype(np.float32))
    ones = np.ones(4, np.float32)
    scalars = (0.9, 0.999, 1.0, 1e-8, -1e-3, False, 0.0, 1.0, False)

    def call(p=None, g=None, m=None):
        p = ones.copy() if p is None else p
        kernel(p, ones if g is None else g, ones.copy() if m is None else m, ones.copy(), ones.copy(), *scalars)

    with pytest.raises(
        TypeError, match=r"adam_update: p has format 'l'; expected one of 'fd' \(f: float32, d: float64\)"
    ):
        call(p=np.ones(4, np.int64))
    with pytest.raises(
        ValueError, match=r"adam_update: g must be a C-contiguous array of 4 values of format 'f' like p; got 3"
    ):
        call(g=np.ones(3, np.float32))
    with pytest.raises(
        ValueError, match=r"adam_update: m must be a C-contiguous array of 4 values of format 'f' like p; .*'d'"
    ):
        call(m=np.ones(4, np.float64))
    with pytest.raises(ValueError, match="not C-contiguous"):
        call(p=np.ones(8, np.float32)[::2])
    with pytest.raises(TypeError):
        call(g=np.ones(4, np.float32).tolist())  # not a buffer
    read_only = ones.copy()
    read_only.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        call(p=read_only)


SGD_OPTIONS = [
    dict(momentum=m, dampening=d, nesterov=n, weight_decay=w, maximize=x)
    for m, d, n, w, x in itertools.product([0, 0.9], [0, 0.3], [False, True], [0, 0.1], [False, True])
    if not (n and (m == 0 or d != 0))
]


@needs_kernel
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("options", SGD_OPTIONS, ids=lambda o: "-".join(f"{k}={v}" for k, v in o.items()))
def test_compiled_sgd_equals_numpy_kernel_bit_for_bit(dtype, options):
    compiled = _train(True, dtype, optimizer=shendu.optim.SGD, **options)
    _assert_identical(compiled, _train(False, dtype, optimizer=shendu.optim.SGD, **options))


@needs_kernel
def test_sgd_kernel_is_float32_only_and_refuses_mismatched_arrays():
    assert _compiled.sgd_kernel(np.dtype(np.float64)) is None
    kernel = _compiled.sgd_kernel(np.dtype(np.float32))
    ones = np.ones(5, np.float32)
    with pytest.raises(
        ValueError, match=r"sgd_update: g must be a C-contiguous array of 5 values of format 'f' like p"
    ):
        kernel(ones.copy(), np.ones(4, np.float32), None, 0.1, 0.0, 0.0, False, False, 0.0, False)
    with pytest.raises(
        ValueError, match=r"sgd_update: buf must be a C-contiguous array of 5 values of format 'f' like p"
    ):
        kernel(ones.copy(), ones, np.ones(5, np.float64), 0.1, 0.9, 0.0, False, False, 0.0, False)
    p = ones.copy()
    kernel(p, ones, None, 0.5, 0.0, 0.0, False, False, 0.0, False)
    np.testing.assert_array_equal(p, np.full(5, 0.5, np.float32))
