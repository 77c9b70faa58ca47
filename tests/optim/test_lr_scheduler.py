"""Every learning-rate schedule gives torch's learning-rate sequence, step for step."""

import math

import numpy as np
import pytest
import torch

from shendu import nn, optim
from shendu.optim import lr_scheduler

STEPS = 100


def _optimizers(name="SGD", lrs=(0.1, 0.02), **options):
    """One optimiser per framework, with a group per learning rate."""
    mine = getattr(optim, name)([{"params": [nn.Parameter(np.ones(2))], "lr": lr} for lr in lrs], **options)
    theirs = getattr(torch.optim, name)([{"params": [torch.nn.Parameter(torch.ones(2))], "lr": lr} for lr in lrs], **options)
    return mine, theirs


def _build(kind, opt, module):
    """The scheduler ``kind`` for ``opt``, built from ``module`` (shendu's lr_scheduler or torch's)."""
    m = module
    return {
        "StepLR": lambda: m.StepLR(opt, step_size=7, gamma=0.5),
        "MultiStepLR": lambda: m.MultiStepLR(opt, milestones=[10, 30, 30, 75], gamma=0.3),
        "ExponentialLR": lambda: m.ExponentialLR(opt, gamma=0.97),
        "CosineAnnealingLR": lambda: m.CosineAnnealingLR(opt, T_max=100, eta_min=0.001),
        "CosineAnnealingLR-restarting": lambda: m.CosineAnnealingLR(opt, T_max=17, eta_min=0.002),
        "LinearLR": lambda: m.LinearLR(opt, start_factor=0.1, total_iters=10),
        "LinearLR-decay": lambda: m.LinearLR(opt, start_factor=1.0, end_factor=0.05, total_iters=60),
        "LambdaLR": lambda: m.LambdaLR(opt, lambda epoch: 1 / (1 + 0.1 * epoch)),
        "LambdaLR-per-group": lambda: m.LambdaLR(opt, [lambda e: 0.99**e, lambda e: 1 + (e % 5)]),
        "MultiplicativeLR": lambda: m.MultiplicativeLR(opt, lambda epoch: 0.98),
        "ConstantLR": lambda: m.ConstantLR(opt, factor=0.5, total_iters=20),
        "PolynomialLR": lambda: m.PolynomialLR(opt, total_iters=80, power=2.0),
        "CosineAnnealingWarmRestarts": lambda: m.CosineAnnealingWarmRestarts(opt, T_0=10, T_mult=2, eta_min=1e-4),
        "OneCycleLR": lambda: m.OneCycleLR(opt, max_lr=[1.0, 0.5], total_steps=STEPS + 1),
        "OneCycleLR-linear-3-phase": lambda: m.OneCycleLR(
            opt, max_lr=0.3, epochs=10, steps_per_epoch=11, anneal_strategy="linear", three_phase=True, pct_start=0.25
        ),
        "SequentialLR": lambda: m.SequentialLR(
            opt, [m.LinearLR(opt, start_factor=0.1, total_iters=5), m.CosineAnnealingLR(opt, T_max=95)], milestones=[5]
        ),
        "SequentialLR-three": lambda: m.SequentialLR(
            opt,
            [m.ConstantLR(opt, factor=0.2, total_iters=3), m.ExponentialLR(opt, gamma=0.9), m.StepLR(opt, 10)],
            milestones=[10, 40],
        ),
        "ChainedScheduler": lambda: m.ChainedScheduler(
            [m.ExponentialLR(opt, gamma=0.95), m.StepLR(opt, step_size=10, gamma=0.5)]
        ),
    }[kind]()


SCHEDULES = [
    "StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "CosineAnnealingLR-restarting", "LinearLR",
    "LinearLR-decay", "LambdaLR", "LambdaLR-per-group", "MultiplicativeLR", "ConstantLR", "PolynomialLR",
    "CosineAnnealingWarmRestarts", "OneCycleLR", "OneCycleLR-linear-3-phase", "SequentialLR", "SequentialLR-three",
    "ChainedScheduler",
]  # fmt: skip


def _assert_lrs(opt_mine, opt_theirs, sched_mine, sched_theirs, step):
    np.testing.assert_allclose(sched_mine.get_last_lr(), sched_theirs.get_last_lr(), rtol=1e-12, atol=1e-15, err_msg=f"step {step}")
    np.testing.assert_allclose(
        [g["lr"] for g in opt_mine.param_groups], [g["lr"] for g in opt_theirs.param_groups], rtol=1e-12, atol=1e-15
    )


@pytest.mark.parametrize("kind", SCHEDULES)
def test_learning_rate_sequence_matches_torch(kind):
    opt_mine, opt_theirs = _optimizers()
    sched_mine, sched_theirs = _build(kind, opt_mine, lr_scheduler), _build(kind, opt_theirs, torch.optim.lr_scheduler)
    _assert_lrs(opt_mine, opt_theirs, sched_mine, sched_theirs, 0)
    for step in range(1, STEPS + 1):
        opt_mine.step()
        opt_theirs.step()
        sched_mine.step()
        sched_theirs.step()
        _assert_lrs(opt_mine, opt_theirs, sched_mine, sched_theirs, step)
    assert [g["initial_lr"] for g in opt_mine.param_groups] == [g["initial_lr"] for g in opt_theirs.param_groups]


@pytest.mark.parametrize("name", ["SGD", "Adam"])
def test_one_cycle_cycles_momentum_or_beta1_like_torch(name):
    options = {"momentum": 0.9} if name == "SGD" else {}
    opt_mine, opt_theirs = _optimizers(name, **options)
    sched_mine = lr_scheduler.OneCycleLR(opt_mine, max_lr=0.5, total_steps=STEPS)
    sched_theirs = torch.optim.lr_scheduler.OneCycleLR(opt_theirs, max_lr=0.5, total_steps=STEPS)
    key = "momentum" if name == "SGD" else "betas"
    for step in range(STEPS - 1):
        opt_mine.step()
        opt_theirs.step()
        sched_mine.step()
        sched_theirs.step()
        _assert_lrs(opt_mine, opt_theirs, sched_mine, sched_theirs, step)
        for g_mine, g_theirs in zip(opt_mine.param_groups, opt_theirs.param_groups):
            np.testing.assert_allclose(g_mine[key], g_theirs[key], rtol=1e-12)
    with pytest.raises(ValueError, match=f"Tried to step {STEPS + 1} times"):
        opt_mine.step()
        sched_mine.step()
        sched_mine.step()


def test_one_cycle_drives_a_real_adam_run_like_torch():
    """β₁ changes every step under OneCycleLR: Adam's scaled moments must follow (trajectory vs torch)."""
    rng = np.random.default_rng(0)
    start = rng.standard_normal(6)
    p, q = nn.Parameter(start.copy()), torch.nn.Parameter(torch.tensor(start.copy()))
    opt_mine, opt_theirs = optim.Adam([p], lr=0.01), torch.optim.Adam([q], lr=0.01)
    sched_mine = lr_scheduler.OneCycleLR(opt_mine, max_lr=0.1, total_steps=40)
    sched_theirs = torch.optim.lr_scheduler.OneCycleLR(opt_theirs, max_lr=0.1, total_steps=40)
    for t in range(40):
        g = np.cos(p.detach().numpy()) + np.random.default_rng(t).standard_normal(6)
        p.grad = nn.Parameter(g).detach()
        q.grad = torch.tensor(np.cos(q.detach().numpy()) + np.random.default_rng(t).standard_normal(6))
        opt_mine.step()
        opt_theirs.step()
        if t < 39:
            sched_mine.step()
            sched_theirs.step()
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), atol=1e-10)


REDUCE_CASES = [
    {"mode": "min", "threshold_mode": "rel"},
    {"mode": "min", "threshold_mode": "abs", "threshold": 0.05},
    {"mode": "max", "threshold_mode": "rel", "patience": 3},
    {"mode": "max", "threshold_mode": "abs", "threshold": 0.02, "patience": 2, "cooldown": 4},
    {"mode": "min", "patience": 0, "factor": 0.5, "min_lr": [0.01, 0.001]},
    {"mode": "min", "patience": 2, "factor": 0.5, "min_lr": 0.005, "eps": 1e-3, "cooldown": 1},
]


def _metrics(mode):
    """A noisy metric that improves, then plateaus, then improves a little (100 values)."""
    rng = np.random.default_rng(0)
    t = np.arange(STEPS)
    trend = np.where(t < 30, 1.0 - t / 40, np.where(t < 70, 0.25, 0.25 - (t - 70) / 400))
    values = trend + 0.02 * rng.standard_normal(STEPS)
    return values if mode == "min" else 1 - values


@pytest.mark.parametrize("options", REDUCE_CASES, ids=str)
def test_reduce_on_plateau_matches_torch(options):
    opt_mine, opt_theirs = _optimizers()
    sched_mine = lr_scheduler.ReduceLROnPlateau(opt_mine, **options)
    sched_theirs = torch.optim.lr_scheduler.ReduceLROnPlateau(opt_theirs, **options)
    reductions = 0
    for step, metric in enumerate(_metrics(options["mode"])):
        before = sched_mine.get_last_lr()
        sched_mine.step(metric)
        sched_theirs.step(metric)
        _assert_lrs(opt_mine, opt_theirs, sched_mine, sched_theirs, step)
        reductions += sched_mine.get_last_lr() != before
        assert sched_mine.num_bad_epochs == sched_theirs.num_bad_epochs
        assert sched_mine.cooldown_counter == sched_theirs.cooldown_counter
    assert reductions > 0


def test_reduce_on_plateau_accepts_a_tensor_metric():
    import shendu

    opt, _ = _optimizers()
    sched = lr_scheduler.ReduceLROnPlateau(opt, patience=0)
    sched.step(shendu.tensor(1.0))
    sched.step(shendu.tensor(2.0))
    assert sched.get_last_lr() == pytest.approx([0.01, 0.002])


@pytest.mark.parametrize("kind", ["StepLR", "MultiStepLR", "CosineAnnealingLR", "LambdaLR", "OneCycleLR", "SequentialLR"])
def test_state_dict_round_trip_mid_schedule_continues_identically(kind):
    opt_a, _ = _optimizers()
    sched_a = _build(kind, opt_a, lr_scheduler)
    for _ in range(40):
        opt_a.step()
        sched_a.step()
    saved_opt, saved_sched = opt_a.state_dict(), sched_a.state_dict()
    opt_b, _ = _optimizers()
    sched_b = _build(kind, opt_b, lr_scheduler)
    opt_b.load_state_dict(saved_opt)
    sched_b.load_state_dict(saved_sched)
    for _ in range(40, STEPS):
        for opt, sched in ((opt_a, sched_a), (opt_b, sched_b)):
            opt.step()
            sched.step()
        assert sched_a.get_last_lr() == sched_b.get_last_lr()


def test_reduce_on_plateau_state_dict_round_trip():
    opt_a, _ = _optimizers()
    a = lr_scheduler.ReduceLROnPlateau(opt_a, patience=1)
    metrics = _metrics("min")
    for m in metrics[:50]:
        a.step(m)
    opt_b, _ = _optimizers()
    b = lr_scheduler.ReduceLROnPlateau(opt_b, patience=1)
    opt_b.load_state_dict(opt_a.state_dict())
    b.load_state_dict(a.state_dict())
    for m in metrics[50:]:
        a.step(m)
        b.step(m)
        assert a.get_last_lr() == b.get_last_lr()


def test_resuming_with_last_epoch_needs_initial_lr():
    opt, _ = _optimizers()
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(opt, step_size=3, last_epoch=5)


def test_stepping_the_scheduler_before_the_optimizer_warns():
    opt, _ = _optimizers()
    sched = lr_scheduler.StepLR(opt, step_size=3)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        sched.step()


def test_closed_form_with_an_explicit_epoch():
    opt, _ = _optimizers()
    sched = lr_scheduler.StepLR(opt, step_size=10, gamma=0.5)
    opt.step()
    sched.step(epoch=25)
    assert sched.get_last_lr() == pytest.approx([0.025, 0.005])


def test_a_warm_up_then_cosine_schedule_reaches_its_floor():
    opt, _ = _optimizers(lrs=(1.0,))
    warmup = lr_scheduler.LinearLR(opt, start_factor=0.01, total_iters=10)
    cosine = lr_scheduler.CosineAnnealingLR(opt, T_max=90, eta_min=0.0)
    sched = lr_scheduler.SequentialLR(opt, [warmup, cosine], milestones=[10])
    lrs = [sched.get_last_lr()[0]]
    for _ in range(STEPS):
        opt.step()
        sched.step()
        lrs.append(sched.get_last_lr()[0])
    assert lrs[0] == pytest.approx(0.01) and lrs[10] == pytest.approx(1.0) and lrs[100] == pytest.approx(0.0, abs=1e-12)
    assert max(lrs) == pytest.approx(1.0) and all(b <= a + 1e-12 for a, b in zip(lrs[10:], lrs[11:]))
    assert math.isclose(lrs[55], 0.5, rel_tol=1e-9)


@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda o: lr_scheduler.StepLR("not an optimizer", 3), TypeError, "str is not an Optimizer"),
        (lambda o: lr_scheduler.StepLR(o, step_size=0), ValueError, "Expected positive integer step_size, but got 0"),
        (lambda o: lr_scheduler.LinearLR(o, start_factor=0), ValueError, "Starting multiplicative factor"),
        (lambda o: lr_scheduler.LinearLR(o, end_factor=2), ValueError, "Ending multiplicative factor"),
        (lambda o: lr_scheduler.ConstantLR(o, factor=1.5), ValueError, "between 0 and 1"),
        (lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=0), ValueError, "positive integer T_max"),
        (lambda o: lr_scheduler.MultiStepLR(o, milestones=[1.5]), ValueError, "milestones must be integers"),
        (lambda o: lr_scheduler.LambdaLR(o, [lambda e: 1.0]), ValueError, "Expected 2 lr_lambdas, but got 1"),
        (lambda o: lr_scheduler.LambdaLR(o, 3), TypeError, "lr_lambda should be a function, but got int"),
        (lambda o: lr_scheduler.OneCycleLR(o, max_lr=1.0), ValueError, "either total_steps OR"),
        (lambda o: lr_scheduler.OneCycleLR(o, max_lr=1.0, total_steps=10, pct_start=2.0), ValueError, "pct_start"),
        (lambda o: lr_scheduler.OneCycleLR(o, max_lr=1.0, total_steps=10, anneal_strategy="exp"), ValueError, "anneal_strategy"),
        (lambda o: lr_scheduler.OneCycleLR(o, max_lr=[1.0], total_steps=10), ValueError, "max_lr must have the same length"),
        (lambda o: lr_scheduler.ReduceLROnPlateau(o, factor=1.0), ValueError, "Factor should be < 1.0"),
        (lambda o: lr_scheduler.ReduceLROnPlateau(o, mode="up"), ValueError, "mode 'up' is unknown"),
        (lambda o: lr_scheduler.ReduceLROnPlateau(o, threshold_mode="x"), ValueError, "threshold mode 'x' is unknown"),
        (lambda o: lr_scheduler.ReduceLROnPlateau(o, min_lr=[0.1]), ValueError, "expected 2 min_lrs, got 1"),
        (lambda o: lr_scheduler.SequentialLR(o, [], milestones=[]), ValueError, "at least one scheduler"),
        (
            lambda o: lr_scheduler.SequentialLR(o, [lr_scheduler.StepLR(o, 2), lr_scheduler.StepLR(o, 3)], milestones=[]),
            ValueError,
            "one more than the number of milestone points",
        ),
        (
            lambda o: lr_scheduler.SequentialLR(o, [lr_scheduler.ReduceLROnPlateau(o)], milestones=[]),
            ValueError,
            "does not support `ReduceLROnPlateau`",
        ),
        (lambda o: lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=5, T_mult=0), ValueError, "T_mult >= 1"),
    ],
)
def test_bad_scheduler_arguments_raise(make, error, message):
    opt, _ = _optimizers()
    with pytest.raises(error, match=message):
        make(opt)


def test_one_cycle_needs_momentum_to_cycle():
    opt = optim.Adagrad([nn.Parameter(np.ones(2))])
    with pytest.raises(ValueError, match="optimizer must support momentum or beta1"):
        lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=10)
    assert lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=10, cycle_momentum=False).get_last_lr() == pytest.approx([0.004])
