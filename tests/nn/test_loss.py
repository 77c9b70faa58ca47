"""Losses (functions and modules) against PyTorch: every reduction and option, gradients to input and
target, stability at extreme logits, the distribution functions, and clear errors for bad input."""

import math
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import shendu
import shendu.nn as nn
import shendu.nn.functional as F
from tests.helpers import assert_close, check_op, gradcheck

TOL = dict(atol=1e-5, rtol=1e-4, grad_atol=1e-5, grad_rtol=1e-4)
REDUCTIONS = ["mean", "sum", "none"]
rng = np.random.default_rng(0)


def floats(*shape, low=-2.0, high=2.0, seed=0):
    return np.random.default_rng(seed).uniform(low, high, size=shape).astype(np.float32)


def labels(classes, *shape, seed=1):
    return np.random.default_rng(seed).integers(0, classes, size=shape).astype(np.int64)


# ----- regression losses ---------------------------------------------------------------------------------------------

REGRESSION = {
    "l1": (TF.l1_loss, F.l1_loss, {}),
    "mse": (TF.mse_loss, F.mse_loss, {}),
    "huber": (TF.huber_loss, F.huber_loss, {}),
    "huber_delta_0.5": (TF.huber_loss, F.huber_loss, {"delta": 0.5}),
    "huber_delta_2": (TF.huber_loss, F.huber_loss, {"delta": 2.0}),
    "smooth_l1": (TF.smooth_l1_loss, F.smooth_l1_loss, {}),
    "smooth_l1_beta_0.5": (TF.smooth_l1_loss, F.smooth_l1_loss, {"beta": 0.5}),
    "smooth_l1_beta_0": (TF.smooth_l1_loss, F.smooth_l1_loss, {"beta": 0.0}),
}


@pytest.mark.parametrize("shape", [(), (6,), (3, 4)], ids=str)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", list(REGRESSION))
def test_regression_loss_matches_torch(name, reduction, shape):
    torch_fn, shendu_fn, options = REGRESSION[name]
    check_op(
        [shape, shape],
        lambda a, b: torch_fn(a, b, reduction=reduction, **options),
        lambda a, b: shendu_fn(a, b, reduction=reduction, **options),
        low=-3,
        high=3,
        **TOL,
    )


@pytest.mark.parametrize("name", list(REGRESSION))
def test_regression_loss_at_kinks_d_zero_and_at_delta(name):
    torch_fn, shendu_fn, options = REGRESSION[name]
    target = np.zeros(9, np.float32)
    d = np.array([-2, -1, -0.5, -0.25, 0, 0.25, 0.5, 1, 2], np.float32)  # |d| = δ or β for every option above
    check_op(
        None,
        lambda a, b: torch_fn(a, b, reduction="sum", **options),
        lambda a, b: shendu_fn(a, b, reduction="sum", **options),
        inputs=[d, target],
        **TOL,
    )


@pytest.mark.parametrize("name", ["l1", "mse", "huber_delta_0.5", "smooth_l1_beta_0.5"])
def test_regression_loss_float64_gradcheck(name):
    _, shendu_fn, options = REGRESSION[name]
    d = np.array([-1.3, -0.7, -0.2, 0.1, 0.35, 0.9, 1.6])  # away from 0 and ±0.5
    gradcheck(lambda a, b: shendu_fn(a, b, **options), None, inputs=[d, np.zeros_like(d) + 0.05 * np.arange(7)])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["l1", "mse", "huber"])
def test_regression_loss_with_elementwise_weight_matches_torch(name, reduction):
    torch_fn, shendu_fn, _ = REGRESSION[name]
    weight = floats(3, 4, low=0.1, high=2.0, seed=5)
    check_op(
        [(3, 4), (3, 4)],
        lambda a, b: torch_fn(a, b, reduction=reduction, weight=torch.tensor(weight)),
        lambda a, b: shendu_fn(a, b, reduction=reduction, weight=weight),
        **TOL,
    )


@pytest.mark.parametrize("size_average, reduce", [(None, False), (False, None), (True, True), (False, True)])
@pytest.mark.filterwarnings("ignore:size_average and reduce args will be deprecated")
def test_legacy_size_average_and_reduce_map_to_reduction_as_in_torch(size_average, reduce):
    check_op(
        [(3, 4), (3, 4)],
        lambda a, b: torch.nn.MSELoss(size_average, reduce)(a, b),
        lambda a, b: nn.MSELoss(size_average, reduce)(a, b),
        **TOL,
    )


# ----- cross-entropy and NLL ------------------------------------------------------------------------------------------

CE_CASES = {
    "plain": ({}, {}),
    "weight": ({"weight": [0.2, 1.0, 3.0, 0.5, 1.5]}, {}),
    "ignore_default": ({}, {"ignored": -100}),
    "ignore_2": ({"ignore_index": 2}, {"ignored": 2}),
    "weight_and_ignore": ({"weight": [0.2, 1.0, 3.0, 0.5, 1.5], "ignore_index": 2}, {"ignored": 2}),
    "smoothing": ({"label_smoothing": 0.1}, {}),
    "smoothing_weight_ignore": ({"label_smoothing": 0.3, "weight": [0.2, 1.0, 3.0, 0.5, 1.5]}, {"ignored": -100}),
}


def _ce_inputs(shape, ignored=None, seed=0):
    """Logits of ``shape`` (class axis 1, or 0 for 1-D) and matching class indices, a few set to ``ignored``."""
    axis = 1 if len(shape) >= 2 else 0
    target_shape = shape[:axis] + shape[axis + 1 :]
    x = floats(*shape, low=-3, high=3, seed=seed)
    y = labels(shape[axis], *target_shape, seed=seed + 1)
    if ignored is not None and y.ndim:
        y.reshape(-1)[::3] = ignored
    return x, y


def _torch_options(options):
    return {k: torch.tensor(v) if k == "weight" else v for k, v in options.items()}


CLASS_INDEX_CASES = [
    (function, case)
    for function in ("cross_entropy", "nll_loss")
    for case in CE_CASES
    if function == "cross_entropy" or "smoothing" not in case
]


@pytest.mark.parametrize("shape", [(6, 5), (3, 5, 2, 3), (5,)], ids=["NC", "NCHW", "C"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("function, case", CLASS_INDEX_CASES, ids=[f"{f}-{c}" for f, c in CLASS_INDEX_CASES])
def test_class_index_loss_matches_torch(function, case, reduction, shape):
    options, extra = CE_CASES[case]
    x, y = _ce_inputs(shape, **extra)
    check_op(
        None,
        lambda a, b: getattr(TF, function)(a, b, reduction=reduction, **_torch_options(options)),
        lambda a, b: getattr(F, function)(a, b, reduction=reduction, **options),
        inputs=[x, y],
        **TOL,
    )


@pytest.mark.parametrize("shape", [(6, 5), (3, 5, 2, 3), (5,)], ids=["NC", "NCHW", "C"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", [{}, {"label_smoothing": 0.2}, {"weight": [0.2, 1.0, 3.0, 0.5, 1.5]},
                                     {"weight": [0.2, 1.0, 3.0, 0.5, 1.5], "label_smoothing": 0.1}], ids=str)  # fmt: skip
def test_cross_entropy_with_probability_targets_matches_torch_for_both_gradients(options, reduction, shape):
    x = floats(*shape, low=-3, high=3)
    target = np.random.default_rng(4).dirichlet(np.ones(5), size=int(np.prod(shape)) // 5).astype(np.float32)
    target = np.moveaxis(target.reshape((shape[0],) + shape[2:] + (5,)), -1, 1) if len(shape) > 1 else target[0]
    check_op(
        None,
        lambda a, b: TF.cross_entropy(a, b, reduction=reduction, **_torch_options(options)),
        lambda a, b: F.cross_entropy(a, b, reduction=reduction, **options),
        inputs=[x, np.ascontiguousarray(target)],
        **TOL,
    )


def test_cross_entropy_one_hot_targets_equal_class_indices():
    x = shendu.tensor(floats(4, 3))
    y = labels(3, 4)
    one_hot = np.eye(3, dtype=np.float32)[y]
    assert_close(F.cross_entropy(x, one_hot), F.cross_entropy(x, y), 1e-6, 1e-6)


@pytest.mark.parametrize("options", [{}, {"label_smoothing": 0.2, "weight": [0.5, 2.0, 1.0, 1.5]}], ids=str)
def test_cross_entropy_float64_gradcheck(options):
    x, y = _ce_inputs((3, 4), ignored=-100)
    gradcheck(lambda a: F.cross_entropy(a, y, **options), None, inputs=[x.astype(np.float64)])
    q = np.random.default_rng(2).dirichlet(np.ones(4), size=3)
    gradcheck(lambda a, b: F.cross_entropy(a, b, **options), None, inputs=[x.astype(np.float64), q])


def test_cross_entropy_is_one_fused_op_on_the_logits():
    logits = shendu.tensor(floats(8, 10), requires_grad=True)
    loss = F.cross_entropy(logits, labels(10, 8))
    assert loss._creator.inputs == (logits,)  # no log_softmax or gather node in between
    loss.backward()
    p = torch.softmax(torch.tensor(floats(8, 10)), 1).numpy()
    p[np.arange(8), labels(10, 8)] -= 1
    assert_close(logits.grad, p / 8, 1e-6, 1e-5)  # (softmax − onehot) / N


def test_cross_entropy_equals_nll_of_log_softmax():
    x, y = shendu.tensor(floats(5, 4)), labels(4, 5)
    assert_close(
        F.cross_entropy(x, y, reduction="none"), F.nll_loss(F.log_softmax(x, dim=1), y, reduction="none"), 1e-6, 1e-6
    )


def test_cross_entropy_with_huge_logits_is_finite_and_exact():
    x = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4], [0.0, 0.0, -1e4]], np.float32)
    y = np.array([1, 2, 0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_op(None, lambda a, b: TF.cross_entropy(a, b), lambda a, b: F.cross_entropy(a, b), inputs=[x, y], **TOL)
        loss = F.cross_entropy(shendu.tensor(x), y, reduction="none")
    np.testing.assert_allclose(loss.numpy(), [2e4, math.log(2), math.log(2)], rtol=1e-6)


def test_cross_entropy_with_every_target_ignored_is_nan_like_torch():
    x, y = floats(3, 4), np.full(3, -100)
    assert math.isnan(F.cross_entropy(shendu.tensor(x), y).item())
    assert math.isnan(TF.cross_entropy(torch.tensor(x), torch.tensor(y)).item())
    assert F.cross_entropy(shendu.tensor(x), y, reduction="sum").item() == 0.0


def test_nll_loss_float64_gradcheck():
    x, y = _ce_inputs((4, 3), ignored=1)
    gradcheck(lambda a: F.nll_loss(a, y, weight=[0.3, 1.0, 2.0], ignore_index=1), None, inputs=[x.astype(np.float64)])


# ----- binary cross-entropy ------------------------------------------------------------------------------------------

BCE_CASES = {
    "bce": (TF.binary_cross_entropy, F.binary_cross_entropy, {}),
    "bce_weight_per_class": (TF.binary_cross_entropy, F.binary_cross_entropy, {"weight": [0.5, 1.0, 2.0]}),
    "bce_weight_full": (TF.binary_cross_entropy, F.binary_cross_entropy, {"weight": [[0.5, 1.0, 2.0]] * 4}),
    "logits": (TF.binary_cross_entropy_with_logits, F.binary_cross_entropy_with_logits, {}),
    "logits_pos_weight": (
        TF.binary_cross_entropy_with_logits, F.binary_cross_entropy_with_logits, {"pos_weight": [3.0, 0.5, 1.0]}
    ),
    "logits_weight_and_pos_weight": (
        TF.binary_cross_entropy_with_logits,
        F.binary_cross_entropy_with_logits,
        {"weight": [0.5, 1.0, 2.0], "pos_weight": [2.0, 1.0, 0.25]},
    ),
}  # fmt: skip


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", list(BCE_CASES))
def test_bce_matches_torch_for_input_and_target_gradients(case, reduction):
    torch_fn, shendu_fn, options = BCE_CASES[case]
    torch_options = {k: torch.tensor(v) for k, v in options.items()}
    x = floats(4, 3, low=0.02, high=0.98) if case.startswith("bce") else floats(4, 3, low=-5, high=5)
    check_op(
        None,
        lambda a, b: torch_fn(a, b, reduction=reduction, **torch_options),
        lambda a, b: shendu_fn(a, b, reduction=reduction, **options),
        inputs=[x, floats(4, 3, low=0, high=1, seed=1)],
        **TOL,
    )


def test_bce_log_is_clamped_at_minus_100_like_torch():
    x = np.array([0.0, 1.0, 0.0, 1.0, 1e-45], np.float32)
    t = np.array([1.0, 0.0, 0.0, 1.0, 1.0], np.float32)
    loss = F.binary_cross_entropy(shendu.tensor(x), shendu.tensor(t), reduction="none")
    assert loss.tolist() == [100.0, 100.0, 0.0, 0.0, 100.0]
    assert_close(loss, TF.binary_cross_entropy(torch.tensor(x), torch.tensor(t), reduction="none"), 0, 0)


def test_bce_float64_gradcheck():
    gradcheck(lambda a, b: F.binary_cross_entropy(a, b, weight=[1.0, 2.0]), [(3, 2), (3, 2)], low=0.1, high=0.9)


def test_bce_with_logits_at_plus_minus_1000_is_finite_and_matches_torch():
    x = np.array([1000.0, -1000.0, 1000.0, -1000.0, 0.0], np.float32)
    t = np.array([1.0, 0.0, 0.0, 1.0, 0.5], np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = F.binary_cross_entropy_with_logits(shendu.tensor(x), shendu.tensor(t), reduction="none")
        check_op(None, lambda a, b: TF.binary_cross_entropy_with_logits(a, b, pos_weight=torch.tensor(2.0)),
                 lambda a, b: F.binary_cross_entropy_with_logits(a, b, pos_weight=2.0), inputs=[x, t], **TOL)  # fmt: skip
    np.testing.assert_allclose(loss.numpy(), [0.0, 0.0, 1000.0, 1000.0, math.log(2)], rtol=1e-6)


def test_bce_with_logits_float64_gradcheck():
    gradcheck(
        lambda a, b: F.binary_cross_entropy_with_logits(a, b, pos_weight=[2.0, 0.5]), [(3, 2), (3, 2)], low=0, high=1
    )


# ----- KL divergence -------------------------------------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides the total loss")  # PyTorch's, not ours
@pytest.mark.parametrize("log_target", [False, True])
@pytest.mark.parametrize("reduction", ["mean", "batchmean", "sum", "none"])
def test_kl_div_matches_torch_for_input_and_target_gradients(reduction, log_target):
    x = torch.log_softmax(torch.tensor(floats(4, 5)), 1).numpy()
    t = np.random.default_rng(3).dirichlet(np.ones(5), size=4).astype(np.float32)
    t = np.log(t) if log_target else t
    check_op(
        None,
        lambda a, b: TF.kl_div(a, b, reduction=reduction, log_target=log_target),
        lambda a, b: F.kl_div(a, b, reduction=reduction, log_target=log_target),
        inputs=[x, t],
        **TOL,
    )


def test_kl_div_with_zero_target_probabilities_counts_them_as_zero():
    x = np.log(np.array([[0.5, 0.25, 0.25]], np.float32))
    t = np.array([[1.0, 0.0, 0.0]], np.float32)
    check_op(None, lambda a, b: TF.kl_div(a, b, reduction="batchmean"),
             lambda a, b: F.kl_div(a, b, reduction="batchmean"), inputs=[x, t], forward_only=True, **TOL)  # fmt: skip
    assert F.kl_div(shendu.tensor(x), t, reduction="batchmean").item() == pytest.approx(math.log(2))


def test_kl_div_float64_gradcheck():
    gradcheck(lambda a, b: F.kl_div(a, b, reduction="batchmean"), [(3, 4), (3, 4)], low=0.1, high=1.0)
    gradcheck(lambda a, b: F.kl_div(a, b, log_target=True), [(3, 4), (3, 4)], low=-2.0, high=0.0)


# ----- modules -------------------------------------------------------------------------------------------------------------

WEIGHT = np.array([0.2, 1.0, 3.0, 0.5, 1.5], np.float32)
MODULES = [
    (torch.nn.L1Loss(), nn.L1Loss(), "L1Loss()", "regression"),
    (torch.nn.MSELoss(reduction="sum"), nn.MSELoss(reduction="sum"), "MSELoss(reduction='sum')", "regression"),
    (torch.nn.HuberLoss(delta=0.5), nn.HuberLoss(delta=0.5), "HuberLoss(delta=0.5)", "regression"),
    (torch.nn.SmoothL1Loss(beta=0.5), nn.SmoothL1Loss(beta=0.5), "SmoothL1Loss(beta=0.5)", "regression"),
    (torch.nn.CrossEntropyLoss(torch.tensor(WEIGHT), ignore_index=1, label_smoothing=0.1),
     nn.CrossEntropyLoss(WEIGHT, ignore_index=1, label_smoothing=0.1),
     "CrossEntropyLoss(ignore_index=1, label_smoothing=0.1)", "classes"),
    (torch.nn.NLLLoss(torch.tensor(WEIGHT), reduction="none"), nn.NLLLoss(shendu.tensor(WEIGHT), reduction="none"),
     "NLLLoss(reduction='none')", "classes"),
    (torch.nn.BCELoss(), nn.BCELoss(), "BCELoss()", "probabilities"),
    (torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(WEIGHT)), nn.BCEWithLogitsLoss(pos_weight=WEIGHT),
     "BCEWithLogitsLoss()", "regression"),
    (torch.nn.KLDivLoss(reduction="batchmean", log_target=True), nn.KLDivLoss(reduction="batchmean", log_target=True),
     "KLDivLoss(reduction='batchmean', log_target=True)", "regression"),
]  # fmt: skip


@pytest.mark.parametrize("torch_module, module, text, kind", MODULES, ids=[m[2] for m in MODULES])
def test_loss_module_matches_torch_module(torch_module, module, text, kind):
    if kind == "classes":
        inputs = list(_ce_inputs((6, 5)))
    elif kind == "probabilities":
        inputs = [floats(6, 5, low=0.05, high=0.95), floats(6, 5, low=0, high=1, seed=1)]
    else:
        inputs = [floats(6, 5, low=-2, high=0), floats(6, 5, low=-2, high=1, seed=1)]
    check_op(None, torch_module, module, inputs=inputs, **TOL)
    assert repr(module) == text


def test_class_weight_is_a_buffer_that_follows_dtype_changes():
    loss = nn.CrossEntropyLoss(weight=WEIGHT)
    assert list(loss.state_dict()) == ["weight"] and list(loss.parameters()) == []
    loss.double()
    x, y = _ce_inputs((6, 5), ignored=-100)
    out = loss(shendu.tensor(x.astype(np.float64)), y)
    assert out.dtype == shendu.float64
    expected = TF.cross_entropy(
        torch.tensor(x, dtype=torch.float64), torch.tensor(y), torch.tensor(WEIGHT, dtype=torch.float64)
    )
    assert_close(out, expected, 1e-12, 1e-10)


def test_classifier_training_step_matches_torch():
    torch.manual_seed(0)
    t_model = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.ReLU(), torch.nn.Linear(6, 3))
    s_model = nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 3))
    s_model.load_state_dict({k: v.detach().numpy().copy() for k, v in t_model.state_dict().items()})
    x, y = floats(10, 4), labels(3, 10)
    t_loss = torch.nn.CrossEntropyLoss()(t_model(torch.tensor(x)), torch.tensor(y))
    s_loss = nn.CrossEntropyLoss()(s_model(shendu.tensor(x)), shendu.tensor(y))
    assert_close(s_loss, t_loss, 1e-6, 1e-5)
    t_loss.backward()
    s_loss.backward()
    for (name, p), (_, tp) in zip(s_model.named_parameters(), t_model.named_parameters()):
        assert_close(p.grad, tp.grad, 1e-6, 1e-5, f"gradient of {name}")


# ----- entropy, cross-entropy and KL divergence of distributions ---------------------------------------------------------


def test_entropy_in_bits_matches_the_seed_examples():
    assert F.entropy([0.1, 0.9], base=2).item() == pytest.approx(0.4690, abs=5e-5)
    assert F.entropy([0.999, 0.001], base=2).item() == pytest.approx(0.0114, abs=5e-5)
    assert F.entropy([0.5, 0.5], base=2).item() == pytest.approx(1.0)


def test_entropy_matches_torch_categorical_and_handles_zeros():
    p = np.random.default_rng(5).dirichlet(np.ones(6), size=4).astype(np.float32)
    p[0] = [1, 0, 0, 0, 0, 0]
    expected = torch.distributions.Categorical(probs=torch.tensor(p)).entropy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert_close(F.entropy(p), expected, 1e-6, 1e-5)
    assert F.entropy(p)[0].item() == 0.0
    assert F.entropy(np.full(8, 1 / 8)).item() == pytest.approx(math.log(8), rel=1e-6)


def test_kl_divergence_matches_torch_and_decomposes_cross_entropy():
    p = np.random.default_rng(6).dirichlet(np.ones(5), size=3)
    q = np.random.default_rng(7).dirichlet(np.ones(5), size=3)
    expected = torch.distributions.kl_divergence(
        torch.distributions.Categorical(probs=torch.tensor(p)), torch.distributions.Categorical(probs=torch.tensor(q))
    )
    kl = F.kl_divergence(p, q)
    assert_close(kl, expected, 1e-12, 1e-10)
    assert_close(F.cross_entropy_between(p, q), F.entropy(p) + kl, 1e-12, 1e-10)
    assert_close(F.kl_divergence(p, q, base=2), kl / math.log(2), 1e-12, 1e-10)
    assert np.all(F.kl_divergence(p, p).numpy() == 0)


def test_cross_entropy_between_is_infinite_where_q_misses_p():
    assert F.cross_entropy_between([0.5, 0.5], [1.0, 0.0]).item() == math.inf
    assert F.cross_entropy_between([1.0, 0.0], [1.0, 0.0]).item() == 0.0


@pytest.mark.parametrize("name", ["entropy", "cross_entropy_between", "kl_divergence"])
def test_distribution_functions_float64_gradcheck(name):
    fn = getattr(F, name)
    if name == "entropy":
        gradcheck(lambda p: fn(p, base=2), [(3, 4)], low=0.05, high=1.0)
    else:
        gradcheck(fn, [(3, 4), (3, 4)], low=0.05, high=1.0)


# ----- bad input -------------------------------------------------------------------------------------------------------------


def _ce(target, **options):
    return lambda: F.cross_entropy(shendu.tensor(floats(4, 3)), target, **options)


@pytest.mark.parametrize(
    "call, error, message",
    [
        (_ce(np.array([0, 1, 3, 2])), IndexError, "cross_entropy: target 3 is out of bounds for 3 classes (expected 0 to 2"),
        (_ce(np.array([0, -1, 1, 2])), IndexError, "target -1 is out of bounds for 3 classes"),
        (lambda: nn.CrossEntropyLoss()(shendu.tensor(floats(2, 10)), shendu.tensor([3, 10])), IndexError,
         "target 10 is out of bounds for 10 classes"),
        (lambda: F.nll_loss(shendu.tensor(floats(4, 3)), [0, 1, 7, 0]), IndexError, "nll_loss: target 7 is out of bounds for 3 classes"),
        (_ce(np.zeros(4, np.float32)), ValueError,
         "cross_entropy: got input of shape (4, 3) and a float target of shape (4,); class-index targets must be integers of shape (4,)"),
        (_ce(np.zeros((4, 2), np.float32)), ValueError, "input of shape (4, 3) and a float target of shape (4, 2)"),
        (_ce(np.array([0, 1, 2])), ValueError, "expected a class-index target of shape (4,) for input of shape (4, 3); got target of shape (3,)"),
        (_ce(np.zeros((4, 3), np.float32), ignore_index=0), ValueError, "ignore_index is only for class-index targets"),
        (_ce(np.array([0, 1, 2, 0]), weight=[1.0, 2.0]), ValueError, "weight must have one entry per class, shape (3,); got shape (2,)"),
        (_ce(np.array([0, 1, 2, 0]), label_smoothing=1.5), ValueError, "label_smoothing must be in [0, 1]. Received: label_smoothing=1.5"),
        (_ce(np.array([0, 1, 2, 0]), reduction="avg"), ValueError,
         "cross_entropy: reduction must be one of 'mean', 'sum', 'none'. Received: reduction='avg'"),
        (lambda: F.cross_entropy(shendu.tensor(1.0), [0]), ValueError, "input must have a class dimension"),
        (lambda: F.mse_loss(shendu.tensor(floats(4, 1)), shendu.tensor(floats(4))), ValueError,
         "mse_loss: input and target must have the same shape; got input of shape (4, 1) and target of shape (4,)"),
        (lambda: F.l1_loss(shendu.ones(3), shendu.ones(2, 3)), ValueError, "input of shape (3,) and target of shape (2, 3)"),
        (lambda: nn.HuberLoss()(shendu.ones(3), shendu.ones(4)), ValueError, "huber_loss: input and target must have the same shape"),
        (lambda: F.binary_cross_entropy(shendu.tensor([0.5, 1.2]), shendu.tensor([1.0, 0.0])), ValueError,
         "binary_cross_entropy: input must hold probabilities in [0, 1]; got values from 0.5 to 1.2"),
        (lambda: F.binary_cross_entropy(shendu.tensor([-0.1]), shendu.tensor([1.0])), ValueError, "use binary_cross_entropy_with_logits"),
        (lambda: F.binary_cross_entropy_with_logits(shendu.ones(4, 3), shendu.ones(4, 3), pos_weight=[1.0, 2.0]), ValueError,
         "pos_weight must broadcast to the input's shape (4, 3); got pos_weight of shape (2,)"),
        (lambda: F.kl_div(shendu.ones(2), shendu.ones(2), reduction="avg"), ValueError,
         "kl_div: reduction must be one of 'mean', 'batchmean', 'sum', 'none'"),
        (lambda: nn.MSELoss(reduction="batchmean"), ValueError, "MSELoss: reduction must be one of 'mean', 'sum', 'none'. Received: reduction='batchmean'"),
        (lambda: nn.HuberLoss(delta=0), ValueError, "HuberLoss: delta must be in (0, inf]. Received: delta=0.0"),
        (lambda: nn.SmoothL1Loss(beta=-1), ValueError, "SmoothL1Loss: beta must be in [0, inf]. Received: beta=-1.0"),
        (lambda: nn.CrossEntropyLoss(ignore_index=1.5), TypeError, "ignore_index must be an integer. Received: ignore_index=1.5"),
        (lambda: nn.CrossEntropyLoss(weight=np.ones((2, 2))), ValueError, "weight must be a 1-D tensor, one entry per class; got shape (2, 2)"),
        (lambda: nn.KLDivLoss(log_target="yes"), TypeError, "KLDivLoss: log_target must be True or False"),
        (lambda: F.entropy([0.5, -0.1]), ValueError, "entropy: p must hold probabilities (≥ 0); got a minimum of -0.1"),
        (lambda: F.kl_divergence([0.5, 0.5], [1.0, 0.0, 0.0]), ValueError, "p of shape (2,) and q of shape (3,)"),
        (lambda: F.entropy([0.5, 0.5], base=1), ValueError, "base must be positive and not 1"),
    ],
)  # fmt: skip
def test_bad_input_raises_a_clear_error(call, error, message):
    with pytest.raises(error) as info:
        call()
    assert message in str(info.value)
