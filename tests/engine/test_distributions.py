"""shendu.distributions against torch.distributions: log_prob, entropy, KL and their gradients in float64;
draws checked by their moments; bad parameters named."""

import numpy as np
import pytest
import torch
import torch.distributions as TD

import shendu
import shendu.distributions as D

RNG = np.random.default_rng(0)
LOC, SCALE, X = RNG.standard_normal(4), RNG.uniform(0.5, 2, 4), RNG.standard_normal(4)
LOGITS, ACTIONS = RNG.standard_normal((3, 5)), np.array([0, 4, 2])


def _both(build):
    """``build(lib, M, tensor)`` for PyTorch and shendu; returns the two results, values and gradients."""
    results = []
    for lib, module in ((torch, TD), (shendu, D)):
        parameters = []

        def tensor(array, grad=False, _lib=lib, _parameters=parameters):
            t = _lib.tensor(np.array(array, dtype=np.float64), requires_grad=grad)
            if grad:
                _parameters.append(t)
            return t

        out = build(lib, module, tensor)
        out.sum().backward()
        results.append((out.detach().numpy(), [None if p.grad is None else p.grad.numpy() for p in parameters]))
    return results


@pytest.mark.parametrize("what", ["log_prob", "entropy", "cdf", "rsample_mean"])
def test_normal_equals_pytorch(what):
    def build(lib, M, tensor):
        normal = M.Normal(tensor(LOC, True), tensor(SCALE, True))
        if what == "rsample_mean":
            return normal.mean * 2 + normal.variance + normal.stddev
        return getattr(normal, what)(tensor(X)) if what != "entropy" else normal.entropy()

    (theirs, their_grads), (ours, our_grads) = _both(build)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    for a, b in zip(our_grads, their_grads):
        assert (a is None) == (b is None)  # entropy does not depend on loc: no gradient in either
        if a is not None:
            np.testing.assert_allclose(a, b, rtol=1e-12)


@pytest.mark.parametrize("given", ["logits", "probs"])
def test_categorical_equals_pytorch(given):
    def build(lib, M, tensor):
        value = tensor(LOGITS if given == "logits" else np.abs(LOGITS), True)
        dist = M.Categorical(**{given: value})
        return dist.log_prob(lib.tensor(ACTIONS)) + dist.entropy()

    (theirs, their_grads), (ours, our_grads) = _both(build)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    np.testing.assert_allclose(our_grads[0], their_grads[0], rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("given", ["logits", "probs"])
def test_bernoulli_equals_pytorch(given):
    def build(lib, M, tensor):
        value = tensor(LOGITS[0] if given == "logits" else 1 / (1 + np.exp(-LOGITS[0])), True)
        dist = M.Bernoulli(**{given: value})
        return dist.log_prob(tensor([1.0, 0.0, 1.0, 1.0, 0.0])) + dist.entropy()

    (theirs, their_grads), (ours, our_grads) = _both(build)
    np.testing.assert_allclose(ours, theirs, rtol=1e-9)
    np.testing.assert_allclose(our_grads[0], their_grads[0], rtol=1e-8, atol=1e-12)


def test_kl_divergences_and_uniform_equal_pytorch():
    def build(lib, M, tensor):
        normal = M.kl_divergence(M.Normal(tensor(LOC, True), tensor(SCALE, True)), M.Normal(tensor(X), tensor(SCALE[::-1])))
        categorical = M.kl_divergence(M.Categorical(logits=tensor(LOGITS, True)), M.Categorical(logits=tensor(LOGITS[::-1])))
        bernoulli = M.kl_divergence(M.Bernoulli(logits=tensor(X, True)), M.Bernoulli(logits=tensor(LOC)))
        uniform = M.Uniform(tensor([0.0, 1.0], True), tensor([2.0, 5.0], True))
        return lib.cat([normal, categorical, bernoulli, uniform.log_prob(tensor([1.0, 4.5])), uniform.entropy()])

    (theirs, their_grads), (ours, our_grads) = _both(build)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    for a, b in zip(our_grads, their_grads):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-14)


def test_draws_have_the_right_shapes_and_moments():
    shendu.manual_seed(0)
    normal = D.Normal(shendu.tensor([1.0, -2.0]), shendu.tensor([0.5, 3.0]))
    draws = normal.sample((20000,))
    assert tuple(draws.shape) == (20000, 2) and not draws.requires_grad
    np.testing.assert_allclose(draws.numpy().mean(0), [1.0, -2.0], atol=0.06)
    np.testing.assert_allclose(draws.numpy().std(0), [0.5, 3.0], rtol=0.03)
    probs = np.array([[0.1, 0.6, 0.3], [0.5, 0.0, 0.5]])
    counts = D.Categorical(probs=shendu.tensor(probs)).sample((20000,)).numpy()
    assert counts.shape == (20000, 2)
    for row in range(2):
        np.testing.assert_allclose(np.bincount(counts[:, row], minlength=3) / 20000, probs[row], atol=0.015)
    flips = D.Bernoulli(probs=shendu.tensor([0.2, 0.9])).sample((20000,)).numpy()
    np.testing.assert_allclose(flips.mean(0), [0.2, 0.9], atol=0.015)
    mu, sigma = shendu.tensor([0.0], requires_grad=True), shendu.tensor([2.0], requires_grad=True)
    D.Normal(mu, sigma).rsample((5,)).sum().backward()  # the reparameterised draw carries gradients
    assert mu.grad.item() == 5.0 and sigma.grad is not None


def test_reinforce_step_as_pytorchs_example_writes_it():
    shendu.manual_seed(0)
    policy = shendu.nn.Sequential(shendu.nn.Linear(4, 16), shendu.nn.ReLU(), shendu.nn.Linear(16, 2))
    optimizer = shendu.optim.Adam(policy.parameters(), lr=0.01)
    log_probs, rewards = [], []
    for _ in range(5):
        m = D.Categorical(logits=policy(shendu.randn(1, 4)))
        action = m.sample()
        log_probs.append(m.log_prob(action))
        rewards.append(float(action.item()))
    loss = shendu.cat([-lp * r for lp, r in zip(log_probs, rewards)]).sum()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    assert all(p.grad is not None for p in policy.parameters())


def test_bad_parameters_are_named():
    with pytest.raises(ValueError, match="Either `probs` or `logits` must be specified, but not both"):
        D.Categorical(probs=shendu.ones(3), logits=shendu.ones(3))
    with pytest.raises(ValueError, match="Expected parameter scale of Normal to be positive"):
        D.Normal(0.0, -1.0)
    with pytest.raises(ValueError, match="Expected parameter probs of Bernoulli to be in \\[0, 1\\]"):
        D.Bernoulli(probs=shendu.tensor([1.5]))
    with pytest.raises(NotImplementedError, match="no closed form for Normal and Categorical"):
        D.kl_divergence(D.Normal(0.0, 1.0), D.Categorical(logits=shendu.zeros(2)))
    with pytest.raises(NotImplementedError, match="Categorical has no reparameterised sample"):
        D.Categorical(logits=shendu.zeros(2)).rsample()
