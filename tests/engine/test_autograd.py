"""The graph: the chain rule over shared nodes, accumulation, freeing, depth, memory, grad modes, higher order."""

import gc
import tracemalloc
import weakref

import numpy as np
import pytest
import torch

import shendu
from shendu.autograd import Function
from shendu.autograd import grad as shendu_grad
from tests.helpers import assert_close

# ----- the chain rule over a graph ------------------------------------------------


def test_a_plus_a_twice_gives_four():
    a = shendu.tensor(3.0, requires_grad=True)
    b = a + a
    c = b + b
    c.backward()
    assert a.grad.item() == 4.0


def test_a_node_reused_in_many_branches_sums_every_path_like_torch():
    def build(m, x):
        h = x * 2
        branches = [h * h, m.exp(h), h.sum() * h, h[0] * h, m.sigmoid(h) * h]
        return sum(branch.sum() for branch in branches)

    x_s = shendu.tensor([0.3, -0.2, 0.5], requires_grad=True)
    x_t = torch.tensor([0.3, -0.2, 0.5], requires_grad=True)
    build(shendu, x_s).backward()
    build(torch, x_t).backward()
    assert_close(x_s.grad, x_t.grad, 1e-5, 1e-5)


def test_diamond_graph_visits_the_shared_node_once_after_all_its_consumers():
    calls = []

    class Spy(shendu.autograd.Function):
        def forward(self, x):
            return x.copy()

        def backward(self, gy):
            calls.append(gy.copy())
            return gy

    x = shendu.tensor([1.0, 2.0], requires_grad=True)
    shared = Spy()(x)
    y = (shared * 2 + shared.exp() * shared + shared[1]).sum()  # shared[1] is broadcast over 2 elements
    y.backward()
    assert len(calls) == 1  # all paths summed before the op's backward runs
    np.testing.assert_allclose(x.grad.numpy(), 2 + np.exp([1.0, 2.0]) * (1 + np.array([1.0, 2.0])) + [0, 2], rtol=1e-6)


def test_backward_twice_with_retain_graph_accumulates():
    x = shendu.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.tolist() == [4.0, 8.0]
    x.grad = None
    (x * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


def test_gradients_accumulate_across_separate_graphs_until_zeroed():
    w = shendu.tensor([1.0], requires_grad=True)
    for _ in range(3):
        (w * 2).sum().backward()
    assert w.grad.item() == 6.0
    w.grad.zero_()
    (w * 2).sum().backward()
    assert w.grad.item() == 2.0


def test_second_backward_through_a_freed_graph_raises_a_clear_runtime_error():
    x = shendu.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time.*retain_graph=True"):
        y.backward()


def test_changing_a_saved_input_in_place_before_backward_raises_like_torch():
    w = shendu.tensor([1.0, 2.0, 3.0], requires_grad=True)
    mask = shendu.ones(3)
    y = (w * mask).sum()
    mask[0] = 0.0  # Mul saved mask: its gradient for w would silently be wrong
    with pytest.raises(
        RuntimeError, match=r"modified by an in-place operation: input 1 of Mul .*version 1; expected version 0"
    ):
        y.backward()
    z = (w + mask).sum()  # Add saves nothing, so changing an input afterwards is harmless (as in torch)
    mask.fill_(5.0)
    z.backward()
    assert w.grad.tolist() == [1.0, 1.0, 1.0]


def test_updating_weights_under_no_grad_after_backward_is_fine():
    w = shendu.tensor([1.0, 2.0], requires_grad=True)
    for _ in range(3):
        loss = (w * w).sum()
        loss.backward()
        with shendu.no_grad():
            w -= 0.1 * w.grad
        w.grad = None
    np.testing.assert_allclose(w.detach().numpy(), np.array([1.0, 2.0]) * 0.8**3, rtol=1e-6)


def test_backward_of_a_non_scalar_with_an_upstream_gradient_like_torch():
    x_s = shendu.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    x_t = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    upstream = [[1.0, -1.0], [0.5, 2.0]]
    (x_s**2).backward(shendu.tensor(upstream))
    (x_t**2).backward(torch.tensor(upstream))
    assert_close(x_s.grad, x_t.grad, 0, 0)
    x_s.grad = None
    (x_s**2).backward(gradient=np.array(upstream, np.float32))
    assert_close(x_s.grad, x_t.grad, 0, 0)


def test_shendu_autograd_backward_over_several_roots():
    x = shendu.tensor([1.0, 2.0], requires_grad=True)
    shendu.autograd.backward([(x * 2).sum(), (x * x).sum()])
    assert x.grad.tolist() == [4.0, 6.0]


def test_a_100000_node_chain_backward_has_no_recursion_error():
    x = shendu.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.backward()
    assert x.grad.item() == 1.0
    del y  # freeing a deep graph must not recurse either
    gc.collect()


def test_non_leaf_grad_is_kept_only_with_retain_grad():
    x = shendu.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    h.retain_grad()
    g = x * 2
    (h * g).sum().backward()
    assert h.grad.tolist() == [2.0, 4.0]
    assert g.grad is None and not g.is_leaf and g.grad_fn is not None


def test_ops_on_tensors_without_grad_record_nothing():
    x = shendu.tensor([1.0, 2.0])
    y = x * 2 + 1
    assert not y.requires_grad and y.grad_fn is None
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.sum().backward()


def test_integer_inputs_mixed_with_grad_inputs_get_no_gradient():
    w = shendu.tensor([0.5, 1.5], requires_grad=True)
    idx = shendu.tensor([1, 2])
    (w * idx).sum().backward()
    assert w.grad.tolist() == [1.0, 2.0] and idx.grad is None


# ----- compositions: multi-output ops with unused outputs, masks, mixed constants ------

COMPOSITIONS = {
    "split, one piece used": lambda m, x: x.split(1)[1].sum() * 2,
    "chunk, one piece used": lambda m, x: x.chunk(2, 1)[0].pow(2).sum(),
    "unbind, one row used": lambda m, x: x.unbind(0)[2].exp().sum(),
    "max values, indices unused": lambda m, x: m.max(x, 1)[0].sum(),
    "topk values": lambda m, x: x.topk(2, 1).values.sum(),
    "sort values weighted": lambda m, x: (x.sort(1).values * m.arange(4.0)).sum(),
    "cat with a constant": lambda m, x: m.cat([x, m.ones(1, 4)]).pow(2).sum(),
    "None index then expand": lambda m, x: x[..., None].expand(3, 4, 2).sum(),
    "mean of a boolean selection": lambda m, x: x[x > 0].mean(),
    "norm along a dim": lambda m, x: x.norm(dim=1).sum(),
    "nll by fancy indexing": lambda m, x: -x.log_softmax(1)[m.arange(3), m.tensor([0, 2, 1])].mean(),
    "where with a broadcast constant": lambda m, x: m.where(x > 0, x, m.zeros(1)).sum(),
    "max-shifted exp": lambda m, x: (x - x.amax(1, keepdim=True)).exp().sum(),
    "broadcast batched matmul": lambda m, x: (x.reshape(1, 3, 4) @ m.ones(2, 4, 1)).sum(),
}


@pytest.mark.parametrize("fn", list(COMPOSITIONS.values()), ids=list(COMPOSITIONS))
def test_composition_value_and_gradient_match_torch(fn):
    a = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    x_s, x_t = shendu.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y_s, y_t = fn(shendu, x_s), fn(torch, x_t)
    y_s.backward()
    y_t.backward()
    assert y_s.item() == pytest.approx(y_t.item(), rel=1e-5, abs=1e-6)
    assert_close(x_s.grad, x_t.grad, 1e-5, 1e-4, "gradient")


# ----- hooks -----------------------------------------------------------------------


def test_leaf_hook_sees_the_total_gradient_once_and_can_replace_it_like_torch():
    seen = {"torch": [], "shendu": []}
    for name, m in (("torch", torch), ("shendu", shendu)):
        w = m.tensor([1.0, -2.0], requires_grad=True)
        w.register_hook(lambda g, name=name: seen[name].append(g.tolist()))
        w.register_hook(lambda g: g * 10)
        (w * w + w * 3).sum().backward()
        seen[name].append(w.grad.tolist())
    assert seen["shendu"] == seen["torch"] == [[5.0, -1.0], [50.0, -10.0]]


def test_non_leaf_hook_replaces_the_gradient_flowing_on_and_can_be_removed():
    x = shendu.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    handle = h.register_hook(lambda g: g * 0 + 1.0)
    (h * h).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]  # the hook replaced dL/dh = 2h by ones
    handle.remove()
    x.grad = None
    h = x * 3
    (h * h).sum().backward()
    assert x.grad.tolist() == [18.0, 36.0]


def test_hooks_track_gradient_norms_and_refuse_bad_use():
    w = shendu.tensor(np.ones((3, 2), np.float32), requires_grad=True)
    norms = []
    w.register_hook(lambda g: norms.append(g.norm().item()))
    for _ in range(2):
        (w * 2).sum().backward()
    assert norms == pytest.approx([np.sqrt(6 * 4.0)] * 2)
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        shendu.ones(2).register_hook(lambda g: g)
    w.register_hook(lambda g: g.sum())
    with pytest.raises(RuntimeError, match=r"hook returned a gradient of shape \(\); expected \(3, 2\)"):
        (w * 2).sum().backward()


# ----- memory --------------------------------------------------------------------


def _training_like_step(w, x, target):
    hidden = shendu.tanh(x @ w)
    loss = ((hidden - target) ** 2).mean()
    loss.backward()
    with shendu.no_grad():
        w -= 0.01 * w.grad
    w.grad = None
    return loss.item()


def test_memory_stays_flat_over_1000_training_like_steps():
    rng = np.random.default_rng(0)
    w = shendu.tensor(rng.standard_normal((8, 4)).astype(np.float32), requires_grad=True)
    x = shendu.tensor(rng.standard_normal((16, 8)).astype(np.float32))
    target = shendu.zeros(16, 4)
    for _ in range(50):  # warm caches
        _training_like_step(w, x, target)
    gc.collect()
    tracemalloc.start()
    try:
        for _ in range(100):
            _training_like_step(w, x, target)
        baseline, _ = tracemalloc.get_traced_memory()
        for _ in range(1000):
            _training_like_step(w, x, target)
        gc.collect()
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert after - baseline < 50_000, f"memory grew by {after - baseline} bytes over 1000 steps"


def test_loss_item_users_keep_no_graph_alive():
    w = shendu.tensor([1.0, 2.0], requires_grad=True)
    losses = []
    refs = []
    for _ in range(20):
        hidden = w * 3
        loss = (hidden * hidden).sum()
        refs.append(weakref.ref(hidden))
        loss.backward()
        losses.append(loss.item())
    del hidden, loss
    assert all(r() is None for r in refs), "graph nodes survived their step"


def test_graph_without_backward_is_freed_when_outputs_are_dropped():
    w = shendu.tensor([1.0, 2.0], requires_grad=True)
    hidden = w.exp()
    ref = weakref.ref(hidden)
    out = hidden.sum()
    del hidden, out
    assert ref() is None


# ----- grad modes ----------------------------------------------------------------


def test_no_grad_as_context_manager_and_decorator():
    x = shendu.tensor([1.0], requires_grad=True)
    with shendu.no_grad():
        y = x * 2
        assert not shendu.is_grad_enabled()
    assert shendu.is_grad_enabled() and not y.requires_grad

    @shendu.no_grad()
    def predict(v):
        return v * 2

    assert not predict(x).requires_grad and shendu.is_grad_enabled()

    @shendu.no_grad
    def bare(v):
        return v * 2

    @shendu.enable_grad
    def tracked(v):
        return v * 2

    assert not bare(x).requires_grad and bare.__name__ == "bare"
    with shendu.no_grad():
        assert tracked(x).requires_grad


def test_enable_grad_inside_no_grad_and_exceptions_restore_the_mode():
    x = shendu.tensor([1.0], requires_grad=True)
    with shendu.no_grad():
        with shendu.enable_grad():
            assert (x * 2).requires_grad
        assert not (x * 2).requires_grad
    with pytest.raises(ValueError):
        with shendu.no_grad():
            raise ValueError("inside")
    assert shendu.is_grad_enabled()


def test_set_grad_enabled_as_function_context_and_decorator():
    x = shendu.tensor([1.0], requires_grad=True)
    with shendu.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert shendu.is_grad_enabled()
    shendu.set_grad_enabled(False)
    try:
        assert not (x * 2).requires_grad
    finally:
        shendu.set_grad_enabled(True)

    @shendu.set_grad_enabled(False)
    def frozen(v):
        return v * 2

    assert not frozen(x).requires_grad and shendu.is_grad_enabled()
    with shendu.inference_mode():
        assert not (x * 2).requires_grad


# ----- higher-order gradients ------------------------------------------------------

HIGHER_ORDER = [
    ("mul", lambda m, a, b: a * b * a),
    ("div", lambda m, a, b: a / (b * b + 1)),
    ("add sub neg", lambda m, a, b: (a + b) * (a - b) - (-a) * a),
    ("pow", lambda m, a, b: a**3 + (b * b) ** 1.5),
    ("exp log", lambda m, a, b: m.exp(a) * m.log(b * b + 1)),
    ("sqrt", lambda m, a, b: m.sqrt(a * a + b * b + 1)),
    ("tanh sigmoid", lambda m, a, b: m.tanh(a) * m.sigmoid(b)),
    ("sin cos", lambda m, a, b: m.sin(a) * m.cos(b)),
    ("relu abs", lambda m, a, b: m.relu(a) * m.abs(b) * a),
    ("matmul", lambda m, a, b: (a @ b.T) ** 2),
    ("reductions", lambda m, a, b: a.sum(1, keepdim=True) * b.mean(0) * a),
    ("broadcast", lambda m, a, b: a * b[0] + a[:, :1] ** 2),
    ("softmax", lambda m, a, b: m.softmax(a, 1) * b),
    ("log_softmax", lambda m, a, b: m.log_softmax(a * b, 1) ** 2),
    ("logsumexp", lambda m, a, b: m.logsumexp(a * b, 1) ** 2),
    ("where", lambda m, a, b: m.where(a > 0, a * a, b * a)),
    ("clamp maximum", lambda m, a, b: m.clamp(a, -0.5, 0.5) * m.maximum(a, b) * a),
    ("shape ops", lambda m, a, b: m.cat([a.T, b.T], 1).reshape(-1) ** 2),
    ("var", lambda m, a, b: a.var(1) * b.sum()),
    ("max dim", lambda m, a, b: m.max(a * b, 1)[0] ** 2),
    (
        "gather index",
        lambda m, a, b: (
            (m.gather(a * b, 1, m.tensor([[0, 0], [3, 1], [2, 2]])) ** 2).sum() + (a[[0, 0, 2]] ** 2 * b[1]).sum()
        ),
    ),
    ("masked_fill cumsum flip", lambda m, a, b: m.cumsum((a * b).masked_fill(a > 0, 0.0).flip(1), 1) ** 2),
    ("linear", lambda m, a, b: m.nn.functional.linear(a, b, a[0, :3] if m is torch else a[0, :3]) ** 2),
]


@pytest.mark.parametrize("fn", [c[1] for c in HIGHER_ORDER], ids=[c[0] for c in HIGHER_ORDER])
def test_grad_of_grad_matches_torch(fn):
    rng = np.random.default_rng(4)
    a_np, b_np = rng.uniform(-1, 1, (3, 4)), rng.uniform(-1, 1, (3, 4))
    results = []
    for m, grad_fn in ((torch, torch.autograd.grad), (shendu, shendu_grad)):
        a, b = m.tensor(a_np, requires_grad=True), m.tensor(b_np, requires_grad=True)
        out = fn(m, a, b).sum()
        ga, gb = grad_fn(out, (a, b), create_graph=True)
        penalty = (ga * ga).sum() + (ga * gb).sum()
        gga, ggb = grad_fn(penalty, (a, b))
        results.append([t.detach().numpy() for t in (ga, gb, gga, ggb)])
    for mine, theirs, what in zip(results[1], results[0], ["ga", "gb", "gga", "ggb"]):
        np.testing.assert_allclose(mine, theirs, rtol=1e-6, atol=1e-9, err_msg=what)


def test_grad_of_grad_through_an_op_without_one_raises_instead_of_dropping_a_term():
    x = shendu.tensor(np.array([1.5, 2.0, 3.0]), requires_grad=True)
    (gx,) = shendu_grad(x.prod() * x.sum(), x, create_graph=True)
    np.testing.assert_allclose(
        gx.detach().numpy(), [6.0 * 6.5 + 9, 4.5 * 6.5 + 9, 3.0 * 6.5 + 9]
    )  # first order is right
    with pytest.raises(RuntimeError, match="grad of grad through Prod is not implemented"):
        gx.sum().backward()


def test_third_derivative_of_x_cubed():
    x = shendu.tensor(2.0, requires_grad=True)
    (g1,) = shendu_grad(x**3, x, create_graph=True)
    (g2,) = shendu_grad(g1, x, create_graph=True)
    (g3,) = shendu_grad(g2, x)
    assert (g1.item(), g2.item(), g3.item()) == (12.0, 12.0, 6.0)


def test_backward_with_create_graph_leaves_differentiable_grads():
    x = shendu.tensor([1.0, 2.0], requires_grad=True)
    (x**3).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    gx = x.grad
    x.grad = None
    gx.sum().backward()
    assert x.grad.tolist() == [6.0, 12.0]


def test_grad_does_not_touch_dot_grad_and_handles_unused_inputs():
    x = shendu.tensor([1.0, 2.0], requires_grad=True)
    unused = shendu.tensor([1.0], requires_grad=True)
    (gx,) = shendu_grad((x * x).sum(), x)
    assert gx.tolist() == [2.0, 4.0] and x.grad is None
    with pytest.raises(RuntimeError, match="allow_unused"):
        shendu_grad((x * 2).sum(), [x, unused])
    gx, gu = shendu_grad((x * 2).sum(), [x, unused], allow_unused=True)
    assert gu is None and gx.tolist() == [2.0, 2.0]


def test_grad_with_grad_outputs_of_a_non_scalar():
    x = shendu.tensor([1.0, 2.0], requires_grad=True)
    (gx,) = shendu_grad(x * x, x, grad_outputs=shendu.tensor([1.0, 0.5]))
    assert gx.tolist() == [2.0, 2.0]


def test_grad_with_respect_to_an_intermediate_tensor():
    x = shendu.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    (gh,) = shendu_grad((h * h).sum(), h)
    assert gh.tolist() == [6.0, 12.0]


# ----- the public gradcheck --------------------------------------------------------


def test_public_gradcheck_passes_on_correct_gradients_and_catches_wrong_ones():
    x = shendu.tensor(np.array([0.3, -0.7, 1.2]), requires_grad=True)
    assert shendu.autograd.gradcheck(lambda v: v.exp() * v, [x])

    class WrongSquare(shendu.autograd.Function):
        def forward(self, v):
            return v * v

        def backward(self, gy):
            (v,) = self.input_values()
            return gy * v  # should be 2v

    assert shendu.autograd.gradcheck(lambda v: WrongSquare()(v), [x], raise_exception=False) is False
    with pytest.raises(AssertionError, match="gradcheck failed for input 0"):
        shendu.autograd.gradcheck(lambda v: WrongSquare()(v), x)


def test_public_gradcheck_refuses_float32_inputs():
    with pytest.raises(TypeError, match="float64"):
        shendu.autograd.gradcheck(lambda v: v * 2, [shendu.ones(2, requires_grad=True)])


def test_custom_function_with_needs_input_grad():
    class Scale(shendu.autograd.Function):
        def forward(self, x, s):
            return x * s

        def backward(self, gy):
            x, s = self.input_values()
            assert self.needs_input_grad == (True, False)
            return gy * s, None

    x = shendu.tensor([1.0, 2.0], requires_grad=True)
    Scale()(x, shendu.tensor([3.0, 4.0])).sum().backward()
    assert x.grad.tolist() == [3.0, 4.0]


def test_gradcheck_perturbs_non_contiguous_inputs():
    """A transposed (non-contiguous) input is perturbed in place, so a wrong gradient is caught."""
    x = shendu.from_numpy(np.asfortranarray(np.random.default_rng(0).standard_normal((3, 4)))).requires_grad_()
    assert not x._array.flags.c_contiguous
    assert shendu.autograd.gradcheck(lambda t: (t * t).sum(), [x])

    class WrongSquare(shendu.autograd.Function):
        def forward(self, a):
            return a * a

        def backward(self, gy):
            (a,) = self.input_values()
            return gy * a  # should be 2·a·gy

    with pytest.raises(AssertionError, match="gradcheck failed for input 0"):
        shendu.autograd.gradcheck(lambda t: WrongSquare()(t), [x])


# ----- a fresh gradient becomes .grad without a copy; a shared one never does -----------------------------


class _ReturnsFresh(Function):
    """y = x·w; the gradient of w is a new array, remembered through a weak reference only."""

    made = []

    def forward(self, x, w):
        return x * w

    def backward(self, gy):
        x, w = self.input_values()
        gw = np.multiply(gy, x)
        _ReturnsFresh.made.append(weakref.ref(gw))
        return gy * w, gw


class _KeepsItsGradient(Function):
    """y = x·w, keeping the gradient it returns for w (so that gradient is not the leaf's to keep)."""

    def forward(self, x, w):
        return x * w

    def backward(self, gy):
        x, w = self.input_values()
        self.kept = np.multiply(gy, x)
        return gy * w, self.kept


def test_a_fresh_gradient_becomes_the_leaf_grad_without_a_copy():
    w = shendu.tensor(np.ones(3, np.float32), requires_grad=True)
    x = shendu.tensor(np.arange(3, dtype=np.float32))
    _ReturnsFresh.made.clear()
    _ReturnsFresh()(x, w).sum().backward()
    assert w.grad._array is _ReturnsFresh.made[0]()
    np.testing.assert_array_equal(w.grad.numpy(), [0, 1, 2])


def test_a_gradient_the_function_keeps_is_copied_into_grad():
    w = shendu.tensor(np.ones(3), requires_grad=True)
    x = shendu.tensor(np.arange(3.0))
    fn = _KeepsItsGradient()
    fn(x, w).sum().backward(retain_graph=True)
    fn.kept[...] = 99.0
    np.testing.assert_array_equal(w.grad.numpy(), [0, 1, 2])


def test_one_gradient_sent_to_two_leaves_gives_each_its_own_array():
    a = shendu.tensor(np.ones(3), requires_grad=True)
    b = shendu.tensor(np.ones(3), requires_grad=True)
    (a + b).sum().backward()
    assert not np.shares_memory(a.grad.numpy(), b.grad.numpy())
    a.grad.numpy()[...] = 5.0
    np.testing.assert_array_equal(b.grad.numpy(), [1, 1, 1])


def test_gradients_passed_through_and_accumulated_stay_right():
    w = shendu.tensor(np.full(4, 2.0), requires_grad=True)
    loss = (w + w * 3).sum()  # a pass-through gradient (add) and a computed one (mul) meet in w
    loss.backward()
    np.testing.assert_array_equal(w.grad.numpy(), [4, 4, 4, 4])
    lin = shendu.nn.Linear(5, 2)
    x = shendu.randn(3, 5)
    lin(x).sum().backward()
    first = lin.weight.grad.numpy().copy()
    lin(x).sum().backward()  # the second gradient is added in place to the kept array
    np.testing.assert_allclose(lin.weight.grad.numpy(), 2 * first)
