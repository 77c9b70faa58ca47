"""BatchNorm1d/2d/3d, LayerNorm, GroupNorm and their functions against PyTorch."""

import numpy as np
import pytest
import torch

import shendu
import shendu.nn as nn
import shendu.nn.functional as F
from tests.helpers import assert_close, copy_torch_weights, gradcheck

ATOL, RTOL = 1e-5, 1e-4


def randomise_affine(torch_module, seed=1):
    """Non-trivial γ and β, so their gradients and effect are really tested."""
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for param in torch_module.parameters():
            param.copy_(torch.tensor(rng.uniform(0.5, 1.5, tuple(param.shape)).astype(np.float32)))


def module_parity(mine, theirs, x, seed=2):
    """Same input through both modules: compare output, input gradient and parameter gradients."""
    probe = np.random.default_rng(seed).uniform(0.5, 1.5, x.shape).astype(np.float32)
    xs = shendu.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    ys, yt = mine(xs), theirs(xt)
    assert_close(ys, yt, ATOL, RTOL, "forward")
    (ys * shendu.tensor(probe)).sum().backward()
    (yt * torch.tensor(probe)).sum().backward()
    assert_close(xs.grad, xt.grad, ATOL, RTOL, "input gradient")
    for (name, p), (tname, tp) in zip(mine.named_parameters(), theirs.named_parameters()):
        assert name == tname
        assert_close(p.grad, tp.grad, ATOL, RTOL, f"gradient of {name}")
    return ys


def assert_buffers_equal(mine, theirs):
    ours = {k: v.numpy() for k, v in mine.state_dict().items()}
    torchs = {k: v.numpy() for k, v in theirs.state_dict().items()}
    assert list(ours) == list(torchs)
    for key in ours:
        assert ours[key].dtype == torchs[key].dtype, key
        np.testing.assert_allclose(ours[key], torchs[key], atol=ATOL, rtol=RTOL, err_msg=key)


BATCHNORM_CASES = [
    (nn.BatchNorm1d, torch.nn.BatchNorm1d, (16, 5)),
    (nn.BatchNorm1d, torch.nn.BatchNorm1d, (8, 5, 7)),
    (nn.BatchNorm2d, torch.nn.BatchNorm2d, (4, 3, 6, 5)),
    (nn.BatchNorm3d, torch.nn.BatchNorm3d, (2, 3, 4, 3, 2)),
]


@pytest.mark.parametrize("mine_cls, torch_cls, shape", BATCHNORM_CASES)
def test_batchnorm_train_steps_then_eval_match_torch(mine_cls, torch_cls, shape):
    theirs = torch_cls(shape[1])
    randomise_affine(theirs)
    mine = copy_torch_weights(theirs, mine_cls(shape[1]))
    rng = np.random.default_rng(0)
    for step in range(4):
        x = rng.normal(3.0, 2.0, shape).astype(np.float32)  # off-centre, so running stats move
        module_parity(mine, theirs, x, seed=step)
        mine.zero_grad()
        theirs.zero_grad()
    assert_buffers_equal(mine, theirs)
    assert int(mine.num_batches_tracked.item()) == 4
    mine.eval()
    theirs.eval()
    module_parity(mine, theirs, rng.normal(3.0, 2.0, shape).astype(np.float32))
    assert int(mine.num_batches_tracked.item()) == 4  # eval does not count batches


def test_batchnorm_momentum_none_is_the_cumulative_average():
    theirs = torch.nn.BatchNorm1d(4, momentum=None)
    mine = nn.BatchNorm1d(4, momentum=None)
    rng = np.random.default_rng(1)
    batches = [rng.normal(i, 1.0 + i, (10, 4)).astype(np.float32) for i in range(3)]
    for x in batches:
        mine(shendu.tensor(x))
        theirs(torch.tensor(x))
    assert_buffers_equal(mine, theirs)
    expected_mean = np.mean([x.mean(axis=0) for x in batches], axis=0)
    np.testing.assert_allclose(mine.running_mean.numpy(), expected_mean, rtol=1e-5, atol=1e-6)


def test_batchnorm_running_var_uses_the_unbiased_variance():
    x = np.random.default_rng(2).normal(size=(5, 3)).astype(np.float32)
    bn = nn.BatchNorm1d(3, momentum=1.0)
    bn(shendu.tensor(x))
    np.testing.assert_allclose(bn.running_var.numpy(), x.var(axis=0, ddof=1), rtol=1e-5)
    np.testing.assert_allclose(bn.running_mean.numpy(), x.mean(axis=0), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize(
    "kwargs",
    [dict(affine=False), dict(track_running_stats=False), dict(bias=False), dict(momentum=0.3, eps=1e-3)],
    ids=["no-affine", "no-running-stats", "no-bias", "momentum-eps"],
)
def test_batchnorm2d_options_match_torch_in_train_and_eval(kwargs):
    theirs = torch.nn.BatchNorm2d(3, **kwargs)
    randomise_affine(theirs)
    mine = copy_torch_weights(theirs, nn.BatchNorm2d(3, **kwargs))
    rng = np.random.default_rng(3)
    for _ in range(2):
        module_parity(mine, theirs, rng.normal(1.0, 2.0, (4, 3, 5, 5)).astype(np.float32))
    mine.eval()
    theirs.eval()
    module_parity(mine, theirs, rng.normal(1.0, 2.0, (4, 3, 5, 5)).astype(np.float32))
    assert_buffers_equal(mine, theirs)
    assert repr(mine) == repr(theirs)


def test_batchnorm_is_one_fused_op_in_the_graph():
    bn = nn.BatchNorm2d(3)
    x = shendu.randn(2, 3, 4, 4, requires_grad=True)
    y = bn(x)
    assert type(y.grad_fn).__name__ == "BatchNorm"
    assert [t is s for t, s in zip(y.grad_fn.inputs, (x, bn.weight, bn.bias))] == [True, True, True]
    ln = nn.LayerNorm(4)
    z = ln(x)
    assert type(z.grad_fn).__name__ == "LayerNorm"
    assert z.grad_fn.inputs[0] is x


def test_batchnorm_state_dict_keys_and_repr_are_torchs():
    mine, theirs = nn.BatchNorm2d(16), torch.nn.BatchNorm2d(16)
    assert list(mine.state_dict()) == list(theirs.state_dict())
    assert mine.state_dict()["num_batches_tracked"].dtype == shendu.int64
    assert repr(mine) == repr(theirs)
    assert repr(nn.BatchNorm1d(4, momentum=None)) == repr(torch.nn.BatchNorm1d(4, momentum=None))


def test_batchnorm_reset_running_stats():
    bn = nn.BatchNorm1d(3)
    bn(shendu.randn(8, 3) * 5 + 2)
    bn.reset_running_stats()
    assert np.all(bn.running_mean.numpy() == 0) and np.all(bn.running_var.numpy() == 1)
    assert bn.num_batches_tracked.item() == 0


def test_batchnorm_eval_without_running_stats_uses_batch_statistics():
    bn = nn.BatchNorm1d(2, track_running_stats=False).eval()
    x = shendu.tensor([[1.0, 10.0], [3.0, 30.0]])
    y = bn(x).detach().numpy()
    np.testing.assert_allclose(y, [[-1, -1], [1, 1]], atol=1e-4)


@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_gradcheck_float64(training):
    rng = np.random.default_rng(4)
    running_mean = shendu.tensor(rng.normal(size=3))
    running_var = shendu.tensor(rng.uniform(0.5, 2.0, size=3))

    def fn(x, w, b):
        # copies: the running stats must not drift between central-difference evaluations
        return F.batch_norm(x, running_mean.clone(), running_var.clone(), w, b, training=training, eps=1e-3)

    gradcheck(fn, [(4, 3, 2), (3,), (3,)])


def test_layer_norm_and_group_norm_gradcheck_float64():
    gradcheck(lambda x, w, b: F.layer_norm(x, (3, 4), w, b), [(2, 3, 4), (3, 4), (3, 4)])
    gradcheck(lambda x: F.layer_norm(x, 4), [(3, 4)])
    gradcheck(lambda x, w, b: F.group_norm(x, 2, w, b), [(2, 4, 3), (4,), (4,)])


@pytest.mark.parametrize(
    "kwargs, shape",
    [
        (dict(normalized_shape=8), (4, 8)),
        (dict(normalized_shape=(5, 6)), (2, 3, 5, 6)),
        (dict(normalized_shape=6, bias=False), (3, 4, 6)),
        (dict(normalized_shape=[6], elementwise_affine=False, eps=1e-3), (3, 6)),
    ],
)
def test_layernorm_matches_torch(kwargs, shape):
    theirs = torch.nn.LayerNorm(**kwargs)
    randomise_affine(theirs)
    mine = copy_torch_weights(theirs, nn.LayerNorm(**kwargs))
    x = np.random.default_rng(5).normal(2.0, 3.0, shape).astype(np.float32)
    module_parity(mine, theirs, x)
    mine.eval()
    module_parity(mine, theirs, x)  # no difference between modes
    assert repr(mine) == repr(theirs)


@pytest.mark.parametrize("groups, channels, shape", [(2, 4, (3, 4, 5)), (3, 6, (2, 6, 3, 3)), (1, 3, (4, 3))])
def test_groupnorm_matches_torch(groups, channels, shape):
    theirs = torch.nn.GroupNorm(groups, channels)
    randomise_affine(theirs)
    mine = copy_torch_weights(theirs, nn.GroupNorm(groups, channels))
    module_parity(mine, theirs, np.random.default_rng(6).normal(1.0, 2.0, shape).astype(np.float32))
    assert repr(mine) == repr(theirs)


def test_functional_batch_norm_matches_torch_and_updates_running_stats():
    x = np.random.default_rng(7).normal(2.0, 1.5, (6, 3, 4)).astype(np.float32)
    rm_t, rv_t = torch.zeros(3), torch.ones(3)
    rm_s, rv_s = shendu.zeros(3), shendu.ones(3)
    yt = torch.nn.functional.batch_norm(torch.tensor(x), rm_t, rv_t, training=True, momentum=0.2)
    ys = F.batch_norm(shendu.tensor(x), rm_s, rv_s, training=True, momentum=0.2)
    assert_close(ys, yt, ATOL, RTOL)
    assert_close(rm_s, rm_t, ATOL, RTOL, "running_mean")
    assert_close(rv_s, rv_t, ATOL, RTOL, "running_var")
    yt = torch.nn.functional.batch_norm(torch.tensor(x), rm_t, rv_t, training=False)
    ys = F.batch_norm(shendu.tensor(x), rm_s, rv_s, training=False)
    assert_close(ys, yt, ATOL, RTOL, "eval")


def test_float64_layers_and_inputs():
    bn = nn.BatchNorm1d(3).double()
    y = bn(shendu.randn(4, 3, dtype=shendu.float64))
    assert y.dtype == shendu.float64 and bn.running_mean.dtype == shendu.float64
    ln = nn.LayerNorm(3, dtype=shendu.float64)
    assert ln(shendu.randn(2, 3, dtype=shendu.float64)).dtype == shendu.float64


@pytest.mark.parametrize(
    "layer, shape, message",
    [
        (
            nn.BatchNorm2d(16),
            (32, 3, 28, 28),
            "BatchNorm2d(num_features=16) got input of shape (32, 3, 28, 28); expected (N, 16, H, W)",
        ),
        (
            nn.BatchNorm2d(1),
            (32, 28, 28, 1),
            "BatchNorm2d(num_features=1) got input of shape (32, 28, 28, 1); expected (N, 1, H, W)",
        ),
        (
            nn.BatchNorm1d(4),
            (2, 5),
            "BatchNorm1d(num_features=4) got input of shape (2, 5); expected (N, 4) or (N, 4, L)",
        ),
        (
            nn.BatchNorm1d(4),
            (2, 4, 3, 3),
            "BatchNorm1d(num_features=4) got input of shape (2, 4, 3, 3); expected (N, 4) or (N, 4, L)",
        ),
        (nn.LayerNorm(10), (4, 9), "LayerNorm(normalized_shape=(10,)) got input of shape (4, 9); expected (*, 10)"),
        (nn.LayerNorm((2, 3)), (3,), "LayerNorm(normalized_shape=(2, 3)) got input of shape (3,); expected (*, 2, 3)"),
        (
            nn.GroupNorm(2, 4),
            (3, 6, 2),
            "GroupNorm(num_groups=2, num_channels=4) got input of shape (3, 6, 2); expected (N, 4, *)",
        ),
    ],
)
def test_wrong_input_shape_names_layer_expected_and_received(layer, shape, message):
    with pytest.raises(ValueError) as error:
        layer(shendu.zeros(*shape))
    assert str(error.value) == message


def test_bad_arguments_raise_at_construction():
    with pytest.raises(ValueError, match=r"num_features must be a positive integer. Received: num_features=0"):
        nn.BatchNorm1d(0)
    with pytest.raises(TypeError, match=r"num_features must be an int"):
        nn.BatchNorm2d(3.5)
    with pytest.raises(ValueError, match=r"momentum must be a number in \[0, 1\] or None. Received: momentum=1.5"):
        nn.BatchNorm1d(3, momentum=1.5)
    with pytest.raises(ValueError, match=r"eps must be a non-negative number"):
        nn.LayerNorm(3, eps=-1)
    with pytest.raises(
        ValueError, match=r"num_channels must be divisible by num_groups. Received: num_groups=4, num_channels=6"
    ):
        nn.GroupNorm(4, 6)
    with pytest.raises(ValueError, match=r"normalized_shape must not be empty"):
        nn.LayerNorm(())


def test_batchnorm_training_needs_more_than_one_value_per_channel():
    with pytest.raises(ValueError, match=r"more than 1 value per channel when training; got input of shape \(1, 3\)"):
        nn.BatchNorm1d(3)(shendu.zeros(1, 3))
    assert nn.BatchNorm1d(3).eval()(shendu.zeros(1, 3)).shape == (1, 3)  # fine in eval mode


def test_functional_argument_errors():
    x = shendu.zeros(4, 3)
    with pytest.raises(
        ValueError, match=r"running_mean has shape \(4,\) but the input of shape \(4, 3\) has 3 channels"
    ):
        F.batch_norm(x, shendu.zeros(4), shendu.ones(4), training=True)
    with pytest.raises(ValueError, match=r"required when training=False"):
        F.batch_norm(x, None, None, training=False)
    with pytest.raises(ValueError, match=r"normalized_shape=\(4,\) does not match the input of shape \(4, 3\)"):
        F.layer_norm(x, 4)
    with pytest.raises(ValueError, match=r"cannot be split into num_groups=2 equal groups"):
        F.group_norm(x, 2)
    with pytest.raises(TypeError, match=r"expects a Tensor input; got ndarray"):
        nn.LayerNorm(3)(np.zeros((2, 3)))


def _channels_last(array):
    """The same values stored NHWC (as every convolution output is), NCHW-shaped."""
    return np.ascontiguousarray(np.moveaxis(array, 1, -1)).transpose(0, 3, 1, 2)


@pytest.mark.parametrize("affine", [True, False])
def test_batchnorm_matrix_path_equals_the_general_path(affine):
    """The (M, C) path taken for channels-last and 2-D inputs against the axis-by-axis reference path."""
    rng = np.random.default_rng(4)
    x = rng.normal(3.0, 2.0, (6, 5, 7, 3)).astype(np.float64)
    probe = rng.normal(size=x.shape)
    gamma, beta = rng.uniform(0.5, 1.5, 5), rng.uniform(-1, 1, 5)
    results = []
    for stored in (_channels_last(x), np.ascontiguousarray(x)):  # matrix path, then the general one
        xs = shendu.from_numpy(stored).requires_grad_()
        assert xs._array.strides == stored.strides
        weight = shendu.tensor(gamma, requires_grad=True) if affine else None
        bias = shendu.tensor(beta, requires_grad=True) if affine else None
        mean, var = shendu.zeros(5, dtype=shendu.float64), shendu.ones(5, dtype=shendu.float64)
        y = F.batch_norm(xs, mean, var, weight, bias, training=True)
        (y * shendu.tensor(probe)).sum().backward()
        results.append([y.detach().numpy(), xs.grad.numpy(), mean.numpy(), var.numpy()]
                       + ([weight.grad.numpy(), bias.grad.numpy()] if affine else []))  # fmt: skip
    for fast, reference in zip(*results):
        np.testing.assert_allclose(fast, reference, rtol=1e-12, atol=1e-12)


def test_batchnorm_matrix_path_gradcheck_float64():
    def fn(x, w, b):
        stored = shendu.from_numpy(_channels_last(x.detach().numpy()))
        channels_last = x + (stored - x).detach()  # x's values, stored NHWC, gradient to x
        return F.batch_norm(channels_last, None, None, w, b, training=True)

    gradcheck(fn, [(3, 2, 2, 2), (2,), (2,)])


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8])
@pytest.mark.parametrize("shape", [(2, 7, 3, 4), (3, 6, 5)])
def test_local_response_norm_matches_torch_values_and_gradients(size, shape):
    x = np.random.default_rng(0).normal(size=shape)
    probe = np.random.default_rng(1).normal(size=shape)
    results = []
    for lib, layer in ((shendu, nn.LocalResponseNorm), (torch, torch.nn.LocalResponseNorm)):
        t = lib.tensor(x, dtype=lib.float64, requires_grad=True)
        y = layer(size, alpha=0.5, beta=0.6, k=2.0)(t)
        (y * lib.tensor(probe)).sum().backward()
        results.append((y.detach().numpy(), t.grad.numpy()))
    for mine, theirs in zip(*results):
        np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="Expected 3D or higher dimensionality input"):
        F.local_response_norm(shendu.ones(2, 3), 2)


@pytest.mark.parametrize("affine", [True, False])
def test_batchnorm_inference_under_no_grad_equals_the_general_path(affine):
    """Under no_grad, eval-mode BatchNorm is one multiply-add per element; the general path is the oracle."""
    rng = np.random.default_rng(0)
    layer = nn.BatchNorm2d(6, affine=affine)
    layer.running_mean.copy_(shendu.tensor(rng.standard_normal(6).astype(np.float32)))
    layer.running_var.copy_(shendu.tensor(rng.uniform(0.5, 2, 6).astype(np.float32)))
    if affine:
        layer.weight.data.copy_(shendu.tensor(rng.standard_normal(6).astype(np.float32)))
        layer.bias.data.copy_(shendu.tensor(rng.standard_normal(6).astype(np.float32)))
    layer.eval()
    x = shendu.tensor(rng.standard_normal((4, 6, 5, 5)).astype(np.float32))
    oracle = layer(x).detach().numpy()  # grad mode on: the general path
    with shendu.no_grad():
        fast = layer(x).numpy()
    np.testing.assert_allclose(fast, oracle, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("shape", [(4, 6), (4, 6, 7), (3, 6, 5, 4), (2, 6, 3, 4, 5)])
@pytest.mark.parametrize("channels_last", [False, True])
def test_batchnorm_inference_of_any_rank_and_layout_equals_the_general_path(shape, channels_last):
    """The inference path (no autograd node, the axis orders as constants) against the general one, for 1-d, 2-d and
    3-d batch norms, channels-last or not; an input of another dtype than the parameters is refused as before."""
    rng = np.random.default_rng(1)
    layer = {2: nn.BatchNorm1d, 3: nn.BatchNorm1d, 4: nn.BatchNorm2d, 5: nn.BatchNorm3d}[len(shape)](6)
    layer.running_mean.copy_(shendu.tensor(rng.standard_normal(6).astype(np.float32)))
    layer.running_var.copy_(shendu.tensor(rng.uniform(0.5, 2, 6).astype(np.float32)))
    layer.weight.data.copy_(shendu.tensor(rng.standard_normal(6).astype(np.float32)))
    layer.eval()
    values = rng.standard_normal(shape).astype(np.float32)
    if channels_last and len(shape) > 2:
        order = (0, *range(2, len(shape)), 1)
        values = np.ascontiguousarray(values.transpose(order)).transpose(np.argsort(order))
    x = shendu.tensor(values)
    oracle = layer(x).detach().numpy()
    with shendu.no_grad():
        fast = layer(x).numpy()
        with pytest.raises(RuntimeError, match="input and weight must have the same dtype"):
            layer(shendu.tensor(values.astype(np.float64)))
    assert fast.dtype == oracle.dtype == np.float32
    np.testing.assert_allclose(fast, oracle, rtol=1e-5, atol=1e-6)
