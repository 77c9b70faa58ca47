"""More of PyTorch's tensor functions (triangles, diagonals, rearranging, counting, elementwise math, linalg):
the same values as PyTorch and, where differentiable, the same float64 gradients."""

import numpy as np
import pytest
import torch

import shendu

RNG = np.random.default_rng(0)


def _compare(fn, *arrays, grad=True, rtol=1e-10, atol=1e-12, torch_fn=None):
    torch_fn = torch_fn or fn
    t_in = [torch.tensor(a, requires_grad=grad and a.dtype.kind == "f") for a in arrays]
    s_in = [shendu.tensor(a, requires_grad=grad and a.dtype.kind == "f") for a in arrays]
    t_out, s_out = torch_fn(torch, *t_in), fn(shendu, *s_in)
    t_outs = t_out if isinstance(t_out, tuple) else (t_out,)
    s_outs = s_out if isinstance(s_out, tuple) else (s_out,)
    for s, t in zip(s_outs, t_outs):
        assert tuple(s.shape) == tuple(t.shape)
        np.testing.assert_allclose(s.detach().numpy() if s.requires_grad else s.numpy(), t.detach().numpy(), rtol=rtol, atol=atol)
    if grad and any(t.requires_grad for t in t_in):
        weights = [RNG.standard_normal(tuple(t.shape)) for t in t_outs]
        sum(((t * torch.tensor(w)).sum() for t, w in zip(t_outs, weights)), torch.tensor(0.0, dtype=torch.float64)).backward()
        sum(((s * shendu.tensor(w)).sum() for s, w in zip(s_outs, weights)), shendu.tensor(0.0, dtype=shendu.float64)).backward()
        for s, t in zip(s_in, t_in):
            if t.requires_grad:
                np.testing.assert_allclose(s.grad.numpy(), t.grad.numpy(), rtol=1e-9, atol=1e-11)


M = RNG.standard_normal((4, 5))
SQUARE = RNG.standard_normal((3, 3)) + 3 * np.eye(3)
BATCH = RNG.standard_normal((2, 3, 4, 5))
CASES = [
    ("tril", lambda m, x: m.tril(x, -1), [M]), ("triu", lambda m, x: m.triu(x, 2), [M]), ("tril-batched", lambda m, x: x.tril(), [BATCH]),
    ("diagonal", lambda m, x: m.diagonal(x, 1), [M]), ("diagonal-dims", lambda m, x: m.diagonal(x, -1, 1, 3), [BATCH]),
    ("diag-vector", lambda m, x: m.diag(x, 1), [RNG.standard_normal(4)]), ("diag-matrix", lambda m, x: m.diag(x, -2), [M]),
    ("diag_embed", lambda m, x: m.diag_embed(x, -1), [M]), ("trace", lambda m, x: m.trace(x), [SQUARE]),
    ("roll", lambda m, x: m.roll(x, (1, -2), (0, 1)), [M]), ("roll-flat", lambda m, x: m.roll(x, 3), [M]),
    ("repeat_interleave", lambda m, x: m.repeat_interleave(x, 2, dim=1), [M]),
    ("repeat_interleave-counts", lambda m, x: m.repeat_interleave(x, m.tensor([1, 0, 2, 1]), dim=0), [M]),
    ("meshgrid-ij", lambda m, x, y: m.meshgrid(x, y, indexing="ij"), [RNG.standard_normal(3), RNG.standard_normal(4)]),
    ("meshgrid-xy", lambda m, x, y: m.meshgrid(x, y, indexing="xy"), [RNG.standard_normal(3), RNG.standard_normal(4)]),
    ("hstack", lambda m, x, y: m.hstack([x, y]), [M, M]), ("vstack", lambda m, x, y: m.vstack([x, y]), [RNG.standard_normal(5), M]),
    ("broadcast_tensors", lambda m, x, y: m.broadcast_tensors(x, y), [RNG.standard_normal((3, 1)), RNG.standard_normal(4)]),
    ("masked_select", lambda m, x: m.masked_select(x, x > 0), [M]), ("kron", lambda m, x, y: m.kron(x, y), [RNG.standard_normal((2, 3)), M]),
    ("tensordot", lambda m, x, y: m.tensordot(x, y, dims=([1, 3], [0, 2])), [BATCH, RNG.standard_normal((3, 6, 5))]),
    ("tensordot-int", lambda m, x, y: m.tensordot(x, y, dims=1), [M, RNG.standard_normal((5, 2))]),
    ("addmm", lambda m, a, b, c: m.addmm(a, b, c, beta=0.5, alpha=2.0), [RNG.standard_normal((4, 2)), M, RNG.standard_normal((5, 2))]),
    ("baddbmm", lambda m, a, b, c: m.baddbmm(a, b, c, alpha=0.3), [RNG.standard_normal((2, 4, 3)), RNG.standard_normal((2, 4, 5)), RNG.standard_normal((2, 5, 3))]),
    ("mv", lambda m, a, v: m.mv(a, v), [M, RNG.standard_normal(5)]), ("inner", lambda m, a, b: m.inner(a, b), [M, RNG.standard_normal((3, 5))]),
    ("cdist", lambda m, a, b: m.cdist(a, b), [RNG.standard_normal((4, 3)), RNG.standard_normal((6, 3))]),
    ("cdist-p1", lambda m, a, b: m.cdist(a, b, p=1.0), [RNG.standard_normal((2, 4, 3)), RNG.standard_normal((2, 6, 3))]),
    ("nan_to_num", lambda m, x: m.nan_to_num(x * m.tensor([[1.0, float("inf"), float("nan"), -float("inf"), 2.0]], dtype=x.dtype), nan=0.5), [M]),
    ("erf", lambda m, x: m.erf(x), [M]), ("erfc", lambda m, x: m.erfc(x), [M]), ("atan", lambda m, x: m.atan(x), [M]),
    ("atan2", lambda m, y, x: m.atan2(y, x), [M, RNG.standard_normal((4, 5))]), ("sinh", lambda m, x: m.sinh(x), [M]),
    ("cosh", lambda m, x: m.cosh(x), [M]), ("hypot", lambda m, x, y: m.hypot(x, y), [M, RNG.standard_normal((4, 5))]),
    ("logaddexp", lambda m, x, y: m.logaddexp(x, y), [M * 50, RNG.standard_normal((4, 5)) * 50]),
    ("xlogy", lambda m, x, y: m.xlogy(x, y), [np.where(M > 0, M, 0.0), np.abs(RNG.standard_normal((4, 5))) + 0.1]),
    ("logit", lambda m, x: m.logit(x, eps=1e-6), [RNG.uniform(0.01, 0.99, (4, 5))]),
    ("fmod", lambda m, x: m.fmod(x * 5, 1.5), [M]), ("frac", lambda m, x: m.frac(x * 5), [M]),
    ("clamp_min", lambda m, x: m.clamp_min(x, 0.1), [M]), ("clamp_max", lambda m, x: m.clamp_max(x, 0.1), [M]),
    ("deg2rad", lambda m, x: m.deg2rad(x), [M]), ("rad2deg", lambda m, x: m.rad2deg(x), [M]),
    ("linalg.inv", lambda m, a: m.linalg.inv(a), [SQUARE]), ("linalg.det", lambda m, a: m.linalg.det(a), [SQUARE]),
    ("linalg.det-batched", lambda m, a: m.linalg.det(a), [RNG.standard_normal((2, 3, 3))]),
    ("linalg.solve", lambda m, a, b: m.linalg.solve(a, b), [SQUARE, RNG.standard_normal((3, 2))]),
    ("linalg.norm", lambda m, x: m.linalg.norm(x), [M]), ("linalg.vector_norm", lambda m, x: m.linalg.vector_norm(x, 3, dim=1), [M]),
    ("linalg.matrix_norm", lambda m, x: m.linalg.matrix_norm(x), [BATCH]),
]  # fmt: skip


@pytest.mark.parametrize(("name", "fn", "arrays"), CASES, ids=[c[0] for c in CASES])
def test_values_and_gradients_equal_pytorch(name, fn, arrays):
    _compare(fn, *[np.asarray(a, dtype=np.float64) for a in arrays])


@pytest.mark.parametrize(
    ("name", "fn", "arrays"),
    [
        ("isin", lambda m, a, b: m.isin(a, b), [np.array([1, 5, 3, 7]), np.array([3, 7, 9])]),
        ("bincount", lambda m, a: m.bincount(a, minlength=8), [np.array([1, 1, 4, 0, 4, 4])]),
        ("bincount-weights", lambda m, a, w: m.bincount(a, weights=w), [np.array([1, 1, 4]), np.array([0.5, 1.5, 2.0])]),
        ("unique", lambda m, a: m.unique(a, return_inverse=True, return_counts=True), [np.array([[3, 1], [3, 2]])]),
        ("searchsorted", lambda m, s, v: m.searchsorted(s, v), [np.array([1, 3, 5, 7]), np.array([[0, 3, 6], [8, 5, 1]])]),
        ("searchsorted-right", lambda m, s, v: m.searchsorted(s, v, right=True), [np.array([1, 3, 5, 7]), np.array([3, 7])]),
        ("bucketize", lambda m, v, b: m.bucketize(v, b, right=True), [np.array([0.5, 3.0, 9.0]), np.array([1.0, 3.0, 5.0])]),
    ],
    ids=["isin", "bincount", "bincount-weights", "unique", "searchsorted", "searchsorted-right", "bucketize"],
)
def test_counting_functions_equal_pytorch(name, fn, arrays):
    _compare(fn, *arrays, grad=False)


def test_errors_are_pytorchs():
    with pytest.raises(RuntimeError, match="must have at least 2 dimensions"):
        shendu.tril(shendu.ones(3))
    with pytest.raises(shendu.linalg.LinAlgError, match="singular"):
        shendu.linalg.inv(shendu.zeros(2, 2))
    with pytest.raises(RuntimeError, match="bincount only supports 1-d non-negative integral inputs"):
        shendu.bincount(shendu.tensor([-1, 2]))
    with pytest.raises(ValueError, match="indexing must be one of 'xy' or 'ij'"):
        shendu.meshgrid(shendu.ones(2), indexing="yx")


def test_second_derivatives_of_inverse_and_erf_equal_pytorch():
    a = SQUARE.copy()
    at, as_ = torch.tensor(a, requires_grad=True), shendu.tensor(a, requires_grad=True)
    (gt,) = torch.autograd.grad(torch.linalg.inv(at).sum(), at, create_graph=True)
    (gs,) = shendu.autograd.grad(shendu.linalg.inv(as_).sum(), as_, create_graph=True)
    (ggt,) = torch.autograd.grad((gt * gt).sum(), at)
    (ggs,) = shendu.autograd.grad((gs * gs).sum(), as_)
    np.testing.assert_allclose(ggs.numpy(), ggt.numpy(), rtol=1e-9, atol=1e-11)


MORE = [
    ("dstack", lambda m, x, y: m.dstack([x, y]), [M, M]), ("column_stack", lambda m, x, y: m.column_stack([x, y]), [RNG.standard_normal(4), M]),
    ("atleast_3d", lambda m, x: m.atleast_3d(x), [M]), ("atleast_2d", lambda m, x: m.atleast_2d(x), [RNG.standard_normal(3)]),
    ("tensor_split", lambda m, x: m.tensor_split(x, 3, dim=1), [M]), ("tensor_split-indices", lambda m, x: m.tensor_split(x, [1, 3], dim=0), [M]),
    ("block_diag", lambda m, a, b: m.block_diag(a, b), [M, RNG.standard_normal((2, 3))]),
    ("cartesian_prod", lambda m, a, b: m.cartesian_prod(a, b), [RNG.standard_normal(3), RNG.standard_normal(2)]),
    ("take", lambda m, x: m.take(x, m.tensor([[0, 7], [19, 3]])), [M]), ("diff", lambda m, x: m.diff(x, n=2, dim=1), [M]),
    ("float_power", lambda m, x: m.float_power(x.abs() + 0.1, 2.5), [M]),
    ("cosine_similarity", lambda m, a, b: m.nn.functional.cosine_similarity(a, b, dim=1), [M, RNG.standard_normal((4, 5))]),
    ("pairwise_distance", lambda m, a, b: m.nn.functional.pairwise_distance(a, b), [M, RNG.standard_normal((4, 5))]),
    ("glu", lambda m, x: m.nn.functional.glu(x, 0), [M]),
    ("pixel_shuffle", lambda m, x: m.nn.functional.pixel_shuffle(x, 2), [RNG.standard_normal((2, 8, 3, 3))]),
    ("pixel_unshuffle", lambda m, x: m.nn.functional.pixel_unshuffle(x, 2), [RNG.standard_normal((2, 2, 4, 6))]),
    ("instance_norm", lambda m, x: m.nn.InstanceNorm2d(3).double()(x), [RNG.standard_normal((2, 3, 4, 5))]),
    ("instance_norm-affine", lambda m, x: m.nn.InstanceNorm1d(3, affine=True).double()(x), [RNG.standard_normal((2, 3, 7))]),
    ("softmax2d", lambda m, x: m.nn.Softmax2d()(x), [RNG.standard_normal((2, 3, 4, 5))]),
    ("reflection_pad", lambda m, x: m.nn.ReflectionPad2d((1, 2, 2, 1))(x), [RNG.standard_normal((1, 2, 4, 5))]),
    ("replication_pad", lambda m, x: m.nn.ReplicationPad1d(2)(x), [RNG.standard_normal((1, 2, 5))]),
    ("constant_pad", lambda m, x: m.nn.ConstantPad2d(1, 3.5)(x), [RNG.standard_normal((1, 2, 3, 3))]),
    ("zero_pad", lambda m, x: m.nn.ZeroPad2d((0, 1, 2, 0))(x), [RNG.standard_normal((1, 2, 3, 3))]),
]  # fmt: skip


@pytest.mark.parametrize(("name", "fn", "arrays"), MORE, ids=[c[0] for c in MORE])
def test_more_values_and_gradients_equal_pytorch(name, fn, arrays):
    _compare(fn, *[np.asarray(a, dtype=np.float64) for a in arrays])


def test_dtype_information_and_threads_follow_pytorch():
    for ours, theirs in ((shendu.float32, torch.float32), (shendu.float64, torch.float64), (shendu.float16, torch.float16)):
        assert shendu.finfo(ours).eps == torch.finfo(theirs).eps and shendu.finfo(ours).max == torch.finfo(theirs).max
        assert shendu.finfo(ours).tiny == torch.finfo(theirs).tiny
    assert shendu.iinfo(shendu.int32).max == torch.iinfo(torch.int32).max and shendu.iinfo(shendu.uint8).min == 0
    assert shendu.is_floating_point(shendu.ones(1)) and not shendu.is_floating_point(shendu.tensor([1]))
    np.testing.assert_allclose(shendu.logspace(-1, 2, 5).numpy(), torch.logspace(-1, 2, 5).numpy(), rtol=1e-6)
    assert shendu.heaviside(shendu.tensor([-1.0, 0.0, 2.0]), shendu.tensor(0.5)).tolist() == [0.0, 0.5, 1.0]
    assert shendu.get_num_threads() >= 1


LAST = [
    ("cumprod", lambda m, x: m.cumprod(x * m.tensor([[1.0, 0.0, 1.0, 1.0, 1.0]], dtype=x.dtype), 1), [M]),
    ("cumprod-dim0", lambda m, x: x.cumprod(0), [M]), ("logcumsumexp", lambda m, x: m.logcumsumexp(x * 30, 1), [M]),
    ("rms_norm", lambda m, x: m.nn.RMSNorm(5, eps=1e-6).double()(x), [M]),
    ("channel_shuffle", lambda m, x: m.nn.ChannelShuffle(2)(x), [RNG.standard_normal((2, 6, 3, 3))]),
]  # fmt: skip


@pytest.mark.parametrize(("name", "fn", "arrays"), LAST, ids=[c[0] for c in LAST])
def test_last_values_and_gradients_equal_pytorch(name, fn, arrays):
    _compare(fn, *[np.asarray(a, dtype=np.float64) for a in arrays])


def test_bilinear_equals_pytorch():
    torch.manual_seed(0)
    reference, ours = torch.nn.Bilinear(3, 4, 2).double(), shendu.nn.Bilinear(3, 4, 2).double()
    ours.load_state_dict({k: shendu.tensor(v.detach().numpy()) for k, v in reference.state_dict().items()})
    a, b = RNG.standard_normal((5, 3)), RNG.standard_normal((5, 4))
    at, bt = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    as_, bs = shendu.tensor(a, requires_grad=True), shendu.tensor(b, requires_grad=True)
    yt, ys = reference(at, bt), ours(as_, bs)
    np.testing.assert_allclose(ys.detach().numpy(), yt.detach().numpy(), rtol=1e-12)
    yt.sum().backward()
    ys.sum().backward()
    np.testing.assert_allclose(as_.grad.numpy(), at.grad.numpy(), rtol=1e-11)
    np.testing.assert_allclose(ours.weight.grad.numpy(), reference.weight.grad.numpy(), rtol=1e-11)


@pytest.mark.parametrize(
    ("name", "fn", "arrays"),
    [
        ("unfold", lambda m, x: m.nn.functional.unfold(x, (2, 3), dilation=(1, 2), padding=1, stride=2), [RNG.standard_normal((2, 3, 7, 6))]),
        ("fold", lambda m, x: m.nn.functional.fold(x, (5, 6), 3, padding=1), [RNG.standard_normal((2, 18, 30))]),
        ("unfold-layer", lambda m, x: m.nn.Unfold(3)(x), [RNG.standard_normal((1, 2, 5, 5))]),
        ("adaptive_max_pool2d", lambda m, x: m.nn.AdaptiveMaxPool2d((3, 4))(x), [RNG.standard_normal((2, 3, 7, 9))]),
        ("adaptive_max_pool1d", lambda m, x: m.nn.functional.adaptive_max_pool1d(x, 4), [RNG.standard_normal((2, 3, 10))]),
    ],
    ids=["unfold", "fold", "unfold-layer", "adaptive_max_pool2d", "adaptive_max_pool1d"],
)
def test_patches_and_adaptive_max_pooling_equal_pytorch(name, fn, arrays):
    _compare(fn, *arrays)


@pytest.mark.parametrize(
    ("name", "fn", "arrays"),
    [
        ("histc", lambda m, x: m.histc(x, bins=7), [RNG.standard_normal(50)]),
        ("histc-range", lambda m, x: m.histc(x, bins=4, min=-1, max=1), [RNG.standard_normal(50)]),
        ("unique_consecutive", lambda m, x: m.unique_consecutive(x, return_inverse=True, return_counts=True), [np.array([1, 1, 2, 2, 3, 1, 1, 2])]),
        ("bitwise", lambda m, a, b: (m.bitwise_and(a, b), m.bitwise_or(a, b), m.bitwise_xor(a, b), m.bitwise_not(a)), [np.array([12, 10, 7]), np.array([10, 3, 1])]),
        ("gcd-lcm", lambda m, a, b: (m.gcd(a, b), m.lcm(a, b)), [np.array([12, 10, 7]), np.array([18, 4, 3])]),
    ],
    ids=["histc", "histc-range", "unique_consecutive", "bitwise", "gcd-lcm"],
)
def test_counting_and_integer_functions_equal_pytorch(name, fn, arrays):
    _compare(fn, *arrays, grad=False)


def test_lazy_linear_becomes_a_linear_on_its_first_input():
    layer = shendu.nn.LazyLinear(4)
    assert tuple(layer(shendu.randn(2, 7)).shape) == (2, 4)
    assert type(layer) is shendu.nn.Linear and layer.in_features == 7


def test_gumbel_softmax_samples_a_distribution_and_a_hard_one_hot():
    shendu.manual_seed(0)
    logits = shendu.tensor([[2.0, 0.0, -1.0]], requires_grad=True)
    soft = shendu.nn.functional.gumbel_softmax(logits, tau=0.5)
    assert abs(soft.sum().item() - 1) < 1e-6
    hard = shendu.nn.functional.gumbel_softmax(logits, hard=True)
    assert sorted(hard.detach().numpy().ravel().tolist()) == [0.0, 0.0, 1.0]
    hard.sum().backward()
    assert logits.grad is not None
    counts = np.bincount([int(shendu.nn.functional.gumbel_softmax(logits, hard=True).argmax().item()) for _ in range(3000)], minlength=3)
    expected = np.exp([2.0, 0.0, -1.0]) / np.exp([2.0, 0.0, -1.0]).sum()
    np.testing.assert_allclose(counts / 3000, expected, atol=0.03)  # Gumbel-max samples the softmax distribution


@pytest.mark.parametrize("name", ["cummax", "cummin"])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cummax_and_cummin_equal_torch_with_gradients(name, dim):
    x = np.array([[1.0, 3, 2, 3, 5, 0, 5], [4, 1, 4, 2, 6, 6, 1], [0, 0, 7, -1, 7, 2, 2]])
    probe = np.random.default_rng(0).normal(size=x.shape)
    results = []
    for lib in (shendu, torch):
        t = lib.tensor(x, dtype=lib.float64, requires_grad=True)
        values, indices = getattr(t, name)(dim)
        (values * lib.tensor(probe)).sum().backward()
        results.append((values.detach().numpy(), indices.numpy(), t.grad.numpy()))
    for mine, theirs in zip(*results):
        np.testing.assert_array_equal(mine, theirs)


SPECIAL_INPUTS = {
    "logit": [0.05, 0.1, 0.5, 0.9, 0.99], "entr": [0.05, 0.2, 1.0, 3.0], "log1p": [-0.5, 0.0, 0.3, 2.0],
}


@pytest.mark.parametrize("name", ["expit", "logit", "erf", "erfc", "ndtr", "log_ndtr", "entr", "exp2", "expm1",
                                  "log1p", "sinc"])  # fmt: skip
def test_special_functions_equal_torch_with_gradients(name):
    x = np.array(SPECIAL_INPUTS.get(name, [-8.0, -3.0, -1.5, -0.2, 0.3, 1.0, 2.5]))
    results = []
    for lib in (shendu, torch):
        t = lib.tensor(x, dtype=lib.float64, requires_grad=True)
        y = getattr(lib.special, name)(t)
        y.sum().backward()
        results.append((y.detach().numpy(), t.grad.numpy()))
    for mine, theirs in zip(*results):
        np.testing.assert_allclose(mine, theirs, rtol=1e-9, atol=1e-12)


def test_special_edge_values_equal_torch():
    x = np.array([-1.0, 0.0, 2.0])
    np.testing.assert_array_equal(shendu.special.entr(shendu.tensor(x)).numpy(), torch.special.entr(torch.tensor(x)).numpy())
    np.testing.assert_array_equal(shendu.special.sinc(shendu.tensor(x)).numpy(), torch.special.sinc(torch.tensor(x)).numpy())
    a, b = np.array([0.0, 2.0, 0.0]), np.array([-1.0, 0.5, 3.0])
    np.testing.assert_allclose(shendu.special.xlog1py(shendu.tensor(a), shendu.tensor(b)).numpy(),
                               torch.special.xlog1py(torch.tensor(a), torch.tensor(b)).numpy())  # fmt: skip


def test_erfc_keeps_its_precision_in_the_tail():
    x = np.array([3.0, 6.0, 10.0, 26.0])
    np.testing.assert_allclose(shendu.erfc(shendu.tensor(x)).numpy(), torch.erfc(torch.tensor(x)).numpy(), rtol=1e-12)
