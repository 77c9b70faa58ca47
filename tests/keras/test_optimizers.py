"""Keras optimisers: Keras' argument names and defaults map onto shendu.optim (itself checked against torch.optim)."""

import numpy as np
import pytest
from shendu import optim
from shendu.keras import optimizers
from shendu.nn.parameter import Parameter


def _run(keras_opt, optim_cls, optim_kwargs, steps=5, seed=0):
    """Minimise Σ (w - 1)² · scale with both; return both final weights."""
    rng = np.random.default_rng(seed)
    start = rng.standard_normal(6).astype(np.float32)
    scale = Parameter(np.linspace(0.5, 3.0, 6).astype(np.float32), requires_grad=False)
    mine, theirs = Parameter(start.copy()), Parameter(start.copy())
    keras_opt.build([mine])
    reference = optim_cls([theirs], **optim_kwargs)
    for opt, w in ((keras_opt, mine), (reference, theirs)):
        for _ in range(steps):
            opt.zero_grad()
            ((w - 1.0) * (w - 1.0) * scale).sum().backward()
            opt.step()
    return mine.detach().numpy(), theirs.detach().numpy()


@pytest.mark.parametrize("keras_opt,optim_cls,optim_kwargs", [
    (lambda: optimizers.Adam(learning_rate=0.05, beta_1=0.8, beta_2=0.99), optim.Adam,
     {"lr": 0.05, "betas": (0.8, 0.99), "eps": 1e-7}),
    (lambda: optimizers.SGD(learning_rate=0.05, momentum=0.9, nesterov=True), optim.SGD,
     {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    (lambda: optimizers.RMSprop(learning_rate=0.01, rho=0.8), optim.RMSprop, {"lr": 0.01, "alpha": 0.8, "eps": 1e-7}),
    (lambda: optimizers.Adagrad(learning_rate=0.1), optim.Adagrad,
     {"lr": 0.1, "initial_accumulator_value": 0.1, "eps": 1e-7}),
    (lambda: optimizers.AdamW(learning_rate=0.05, weight_decay=0.1), optim.AdamW,
     {"lr": 0.05, "weight_decay": 0.1, "eps": 1e-7}),
    (lambda: optimizers.Adam(learning_rate=0.05, weight_decay=0.1), optim.AdamW,
     {"lr": 0.05, "weight_decay": 0.1, "eps": 1e-7}),
])  # fmt: skip
def test_keras_arguments_and_defaults_map_onto_shendu_optim(keras_opt, optim_cls, optim_kwargs):
    mine, theirs = _run(keras_opt(), optim_cls, optim_kwargs)
    np.testing.assert_array_equal(mine, theirs)
    assert not np.allclose(mine, np.random.default_rng(0).standard_normal(6).astype(np.float32))  # it moved


def test_keras_defaults():
    assert optimizers.get("adam").epsilon == 1e-7 and optimizers.get("adam").learning_rate == 0.001
    assert optimizers.get("sgd").learning_rate == 0.01
    assert optimizers.get("rmsprop").rho == 0.9
    assert optimizers.get("adagrad").initial_accumulator_value == 0.1


def test_learning_rate_is_settable_before_and_after_build():
    opt = optimizers.Adam(learning_rate=0.01)
    opt.learning_rate = 0.02
    opt.build([Parameter(np.zeros(2, np.float32))])
    assert opt.param_groups[0]["lr"] == 0.02
    opt.learning_rate = 0.5
    assert opt.param_groups[0]["lr"] == 0.5 and opt.learning_rate == 0.5


def test_schedule_sets_the_rate_per_update():
    schedule = optimizers.schedules.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5)
    opt = optimizers.SGD(learning_rate=schedule)
    w = Parameter(np.zeros(1, np.float32))
    opt.build([w])
    rates = []
    for _ in range(3):
        w.grad = Parameter(np.ones(1, np.float32), requires_grad=False)
        opt.step()
        rates.append(opt.learning_rate)
    assert rates == pytest.approx([0.1, 0.05, 0.025])
    np.testing.assert_allclose(w.detach().numpy(), [-(0.1 + 0.05 + 0.025)], rtol=1e-6)


def test_clipnorm_clips_each_gradient():
    opt = optimizers.SGD(learning_rate=1.0, clipnorm=1.0)
    w = Parameter(np.zeros(2, np.float32))
    opt.build([w])
    w.grad = Parameter(np.array([3.0, 4.0], np.float32), requires_grad=False)
    opt.step()
    np.testing.assert_allclose(w.detach().numpy(), [-0.6, -0.8], rtol=1e-6)


def test_bad_arguments_name_the_argument():
    with pytest.raises(ValueError, match=r"Adam: beta_1 is out of range\. Received: beta_1=1\.5"):
        optimizers.Adam(beta_1=1.5)
    with pytest.raises(ValueError, match="Unknown optimizer: 'nadam'. Accepted names: adagrad, adam, adamw, rmsprop, sgd"):
        optimizers.get("nadam")
