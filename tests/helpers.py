"""The one PyTorch-parity helper (tinygrad's helper_test_op style) and friends.

Every op test is then one line: same inputs in both frameworks, forward compared
(shape, dtype, values), then the gradients of ``out.sum()`` (or of ``(out * probe).sum()``)
compared for every input.
"""

import numpy as np
import torch

import shendu

_DTYPES = {np.float32: torch.float32, np.float64: torch.float64}


def make_inputs(shapes, low=-2.0, high=2.0, dtype=np.float32, seed=0):
    """Random arrays of the given shapes, uniform in [low, high)."""
    rng = np.random.default_rng(seed)
    return [rng.uniform(low, high, size=s).astype(dtype) for s in shapes]


def to_torch(arrays, requires_grad=True):
    return [torch.tensor(a, requires_grad=requires_grad and a.dtype.kind == "f") for a in arrays]


def to_shendu(arrays, requires_grad=True):
    return [shendu.tensor(a, requires_grad=requires_grad and a.dtype.kind == "f") for a in arrays]


def assert_close(mine, theirs, atol, rtol, what="value"):
    mine = mine.detach().numpy() if isinstance(mine, shendu.Tensor) else np.asarray(mine)
    theirs = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else np.asarray(theirs)
    assert mine.shape == theirs.shape, f"{what}: shape {mine.shape} != torch's {theirs.shape}"
    np.testing.assert_allclose(mine, theirs, atol=atol, rtol=rtol, err_msg=what)


def check_op(
    shapes,
    torch_fn,
    shendu_fn=None,
    atol=1e-6,
    rtol=1e-3,
    grad_atol=1e-4,
    grad_rtol=1e-3,
    low=-2.0,
    high=2.0,
    dtype=np.float32,
    inputs=None,
    forward_only=False,
    seed=0,
):
    """Run ``torch_fn`` and ``shendu_fn`` (defaults to ``torch_fn``) on the same inputs; compare values and gradients."""
    shendu_fn = torch_fn if shendu_fn is None else shendu_fn
    arrays = inputs if inputs is not None else make_inputs(shapes, low, high, dtype, seed)
    arrays = [np.asarray(a) for a in arrays]
    t_in = to_torch(arrays, not forward_only)
    s_in = to_shendu(arrays, not forward_only)
    t_out = torch_fn(*t_in)
    s_out = shendu_fn(*s_in)
    t_outs = t_out if isinstance(t_out, (tuple, list)) else (t_out,)
    s_outs = s_out if isinstance(s_out, (tuple, list)) else (s_out,)
    assert len(t_outs) == len(s_outs)
    for i, (s, t) in enumerate(zip(s_outs, t_outs)):
        assert str(s.dtype).split(".")[-1] == str(t.dtype).split(".")[-1], f"output {i} dtype {s.dtype} != torch's {t.dtype}"
        assert_close(s, t, atol, rtol, f"forward output {i}")
    if forward_only:
        return s_out
    probes = [np.random.default_rng(seed + 1).uniform(0.5, 1.5, size=tuple(t.shape)).astype(arrays[0].dtype) for t in t_outs]
    t_loss = sum((t * torch.tensor(p, dtype=t.dtype)).sum() for t, p in zip(t_outs, probes) if t.requires_grad)
    s_loss = sum((s * shendu.tensor(p).to(s.dtype)).sum() for s, p in zip(s_outs, probes) if s.requires_grad)
    if not isinstance(t_loss, torch.Tensor):
        return s_out
    t_loss.backward()
    s_loss.backward()
    for i, (s, t) in enumerate(zip(s_in, t_in)):
        if t.grad is None:
            assert s.grad is None or np.all(s.grad.numpy() == 0), f"input {i}: torch has no grad, shendu has one"
            continue
        assert s.grad is not None, f"input {i}: shendu produced no gradient"
        assert s.grad.dtype == s.dtype, f"input {i}: grad dtype {s.grad.dtype} != input dtype {s.dtype}"
        assert_close(s.grad, t.grad, grad_atol, grad_rtol, f"gradient of input {i}")
    return s_out


def gradcheck(fn, shapes, low=-2.0, high=2.0, seed=0, inputs=None, **kwargs):
    """Float64 central-difference check of shendu's gradients for ``fn``."""
    arrays = inputs if inputs is not None else make_inputs(shapes, low, high, np.float64, seed)
    tensors = [shendu.tensor(np.asarray(a, dtype=np.float64), requires_grad=True) for a in arrays]
    assert shendu.autograd.gradcheck(fn, tensors, **kwargs)


def copy_torch_weights(torch_module, shendu_module):
    """Load a torch module's state_dict (as NumPy arrays) into a shendu module."""
    state = {k: v.detach().numpy().copy() for k, v in torch_module.state_dict().items()}
    shendu_module.load_state_dict(state)
    return shendu_module
