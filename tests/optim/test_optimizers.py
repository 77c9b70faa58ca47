"""Every optimiser, with every option combination, follows torch.optim step for step (float64)."""

import itertools
import json

import numpy as np
import pytest
import torch

import shendu
from shendu import nn, optim
from tests.helpers import copy_torch_weights

STEPS = 50
SHAPES = [(5, 4), (4,), (3, 1, 2)]


def _grad_fn(t, p):
    """A bounded, parameter-dependent synthetic gradient (the same function in both frameworks)."""
    noise = np.random.default_rng(1000 + t).standard_normal(p.shape)
    return (np.sin(3 * p) + 0.5 * noise).astype(p.dtype)


def _initial(shapes=SHAPES, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return [rng.uniform(-1, 1, size=s).astype(dtype) for s in shapes]


def _pair(name, options, shapes=SHAPES, groups=None):
    """The same parameters in both frameworks and an optimiser of each (``groups``: per-group extra options)."""
    arrays = _initial(shapes)
    mine = [nn.Parameter(a.copy()) for a in arrays]
    theirs = [torch.nn.Parameter(torch.tensor(a.copy())) for a in arrays]
    if groups is None:
        return mine, theirs, getattr(optim, name)(mine, **options), getattr(torch.optim, name)(theirs, **options)
    split = len(arrays) // 2
    g_mine = [{"params": mine[:split]}, {"params": mine[split:], **groups}]
    g_theirs = [{"params": theirs[:split]}, {"params": theirs[split:], **groups}]
    return mine, theirs, getattr(optim, name)(g_mine, **options), getattr(torch.optim, name)(g_theirs, **options)


def _step_both(t, mine, theirs, opt_mine, opt_theirs, skip=()):
    for i, (p, q) in enumerate(zip(mine, theirs)):
        if i in skip:
            p.grad, q.grad = None, None
            continue
        p.grad = shendu.tensor(_grad_fn(t, p.detach().numpy()))
        q.grad = torch.tensor(_grad_fn(t, q.detach().numpy()))
    opt_mine.step()
    opt_theirs.step()


def _assert_same(mine, theirs, atol=1e-6, what=""):
    for i, (p, q) in enumerate(zip(mine, theirs)):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=0, atol=atol, err_msg=f"{what} param {i}")


def _run_trajectory(name, options, steps=STEPS, groups=None, shapes=SHAPES):
    mine, theirs, opt_mine, opt_theirs = _pair(name, options, shapes, groups)
    for t in range(steps):
        _step_both(t, mine, theirs, opt_mine, opt_theirs)
        _assert_same(mine, theirs, what=f"{name}{options} step {t}:")
    return mine, theirs, opt_mine, opt_theirs


def _combos(**axes):
    keys = list(axes)
    return [dict(zip(keys, values)) for values in itertools.product(*axes.values())]


SGD_CASES = [
    c
    for c in _combos(momentum=[0, 0.9], dampening=[0, 0.3], nesterov=[False, True], weight_decay=[0, 0.1], maximize=[False, True])
    if not (c["nesterov"] and (c["momentum"] == 0 or c["dampening"] != 0)) and not (c["momentum"] == 0 and c["dampening"])
]
ADAM_CASES = _combos(amsgrad=[False, True], weight_decay=[0, 0.1], maximize=[False, True])
RMSPROP_CASES = _combos(centered=[False, True], momentum=[0, 0.5], weight_decay=[0, 0.1], maximize=[False, True])
ADAGRAD_CASES = _combos(lr_decay=[0, 0.01], initial_accumulator_value=[0, 0.1], weight_decay=[0, 0.1], maximize=[False, True])


@pytest.mark.parametrize("options", SGD_CASES, ids=str)
def test_sgd_trajectory_matches_torch(options):
    _run_trajectory("SGD", {"lr": 0.05, **options})


@pytest.mark.parametrize("name", ["Adam", "AdamW"])
@pytest.mark.parametrize("options", ADAM_CASES, ids=str)
def test_adam_and_adamw_trajectories_match_torch(name, options):
    _run_trajectory(name, {"lr": 0.01, **options})


@pytest.mark.parametrize("options", RMSPROP_CASES, ids=str)
def test_rmsprop_trajectory_matches_torch(options):
    _run_trajectory("RMSprop", {"lr": 0.01, **options})


@pytest.mark.parametrize("options", ADAGRAD_CASES, ids=str)
def test_adagrad_trajectory_matches_torch(options):
    _run_trajectory("Adagrad", {"lr": 0.05, **options})


@pytest.mark.parametrize(
    "name, options",
    [
        ("Adam", {"lr": 0.02, "betas": (0.5, 0.9), "eps": 1e-3}),
        ("Adam", {"lr": 0.01, "betas": (0.0, 0.0)}),
        ("AdamW", {"lr": 0.01, "weight_decay": 0.5, "amsgrad": True, "betas": (0.8, 0.95)}),
        ("RMSprop", {"lr": 0.01, "alpha": 0.5, "eps": 1e-4, "centered": True, "momentum": 0.9}),
        ("Adagrad", {"lr": 0.1, "eps": 1e-3}),
    ],
)
def test_non_default_hyper_parameters_match_torch(name, options):
    _run_trajectory(name, options)


@pytest.mark.parametrize(
    "name, options, group",
    [
        ("SGD", {"lr": 0.05, "momentum": 0.9}, {"lr": 0.01, "nesterov": True}),
        ("Adam", {"lr": 0.01}, {"lr": 0.03, "betas": (0.8, 0.99), "amsgrad": True}),
        ("RMSprop", {"lr": 0.01}, {"centered": True, "weight_decay": 0.1}),
        ("Adagrad", {"lr": 0.05}, {"lr_decay": 0.1}),
    ],
)
def test_parameter_groups_with_their_own_options_match_torch(name, options, group):
    _run_trajectory(name, options, groups=group)


@pytest.mark.parametrize(
    "name, options",
    [("SGD", {"lr": 0.05, "momentum": 0.9}), ("Adam", {"lr": 0.01, "amsgrad": True}), ("Adagrad", {"lr": 0.05}),
     ("RMSprop", {"lr": 0.01, "momentum": 0.5, "centered": True})],
)  # fmt: skip
def test_parameters_without_a_gradient_are_skipped_like_torch(name, options):
    mine, theirs, opt_mine, opt_theirs = _pair(name, options)
    for t in range(30):
        skip = {t % 3} if t % 4 else set()  # a different parameter sits out most steps
        _step_both(t, mine, theirs, opt_mine, opt_theirs, skip=skip)
        _assert_same(mine, theirs, what=f"step {t}")
    steps_mine = [opt_mine.state[p].get("step") for p in mine]
    steps_theirs = [opt_theirs.state[q].get("step") for q in theirs]
    assert steps_mine == [None if s is None else int(s) for s in steps_theirs]


def test_a_parameter_never_given_a_gradient_gets_no_state():
    p, q = nn.Parameter(np.ones(3)), nn.Parameter(np.ones(2))
    opt = optim.Adam([p, q], lr=0.1)
    p.grad = shendu.tensor(np.ones(3))
    opt.step()
    assert p in opt.state and q not in opt.state
    np.testing.assert_array_equal(q.detach().numpy(), np.ones(2))
    assert list(opt.state_dict()["state"]) == [0]


def test_large_parameters_use_chunks_threads_and_gathers_and_still_match_torch(monkeypatch):
    """Parameters split across chunks, shared between two threads, a non-contiguous one, mixed dtypes."""
    monkeypatch.setenv("SHENDU_NUM_THREADS", "2")
    monkeypatch.setattr("shendu.optim._flat._MAX_CHUNK", 40_000)
    rng = np.random.default_rng(0)
    arrays = [rng.uniform(-1, 1, (300, 700)), rng.uniform(-1, 1, 7), rng.uniform(-1, 1, (3, 4)),
              rng.uniform(-1, 1, (400, 250)).T, rng.uniform(-1, 1, 33)]  # fmt: skip
    mine = [nn.Parameter(a) for a in arrays]  # the transposed one stays a non-contiguous view
    assert not mine[3].detach().numpy().flags.c_contiguous
    mine.append(nn.Parameter(rng.uniform(-1, 1, 10).astype(np.float32)))
    theirs = [torch.nn.Parameter(torch.tensor(np.ascontiguousarray(p.detach().numpy()))) for p in mine]
    opt_mine = optim.Adam(mine, lr=0.01, weight_decay=0.1)
    opt_theirs = torch.optim.Adam(theirs, lr=0.01, weight_decay=0.1)
    bucket = opt_mine._buckets(0)[0]
    alone, shared = bucket.plan
    assert bucket.workers == 2 and len(shared) > 6 and any(len(segments) > 1 for *_, segments in shared)
    for t in range(5):
        _step_both(t, mine, theirs, opt_mine, opt_theirs)
    assert bucket.timer.samples[True] and bucket.timer.samples[False]  # both ways ran
    for p, q in zip(mine, theirs):
        atol = 1e-6 if p.dtype == shendu.float64 else 1e-5
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=0, atol=atol)
    assert np.shares_memory(mine[3].detach().numpy(), arrays[3])  # updated in place, through the view


def test_a_worker_thread_that_never_starts_delays_nothing(monkeypatch):
    """On a busy machine the helper thread may not get a core: the caller does all the chunks and moves on."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    monkeypatch.setenv("SHENDU_NUM_THREADS", "2")
    busy, release = ThreadPoolExecutor(max_workers=1), threading.Event()
    busy.submit(release.wait)  # the only worker is taken: our task stays queued
    monkeypatch.setattr("shendu.optim._flat.get_pool", lambda workers: busy)
    try:
        mine, theirs, opt_mine, opt_theirs = _pair("Adam", {"lr": 0.01}, shapes=[(400, 700), (9,)])
        for t in range(3):
            _step_both(t, mine, theirs, opt_mine, opt_theirs)
        _assert_same(mine, theirs)
        assert opt_mine._buckets(0)[0].workers == 2
    finally:
        release.set()
        busy.shutdown()


def test_frozen_parameters_leave_the_others_one_update_and_match_torch(monkeypatch):
    """Fine-tuning: some parameters never get a gradient; the rest are still updated together (and threaded)."""
    monkeypatch.setenv("SHENDU_NUM_THREADS", "2")
    shapes = [(300, 500), (7,), (200, 300), (5, 5), (100,), (200, 400)]
    mine, theirs, opt_mine, opt_theirs = _pair("Adam", {"lr": 0.01, "amsgrad": True}, shapes=shapes)
    frozen = {0, 4}
    for t in range(6):
        _step_both(t, mine, theirs, opt_mine, opt_theirs, skip=frozen)
    _assert_same(mine, theirs)
    bucket = opt_mine._buckets(0)[0]
    ((alone, plan),) = bucket._subset_plans.values()
    assert bucket.workers == 2 and len(plan) > 2
    assert {i for *_, segments in plan for i, *_ in segments} == {1, 2, 3, 5}
    assert all(p not in opt_mine.state for i, p in enumerate(mine) if i in frozen)


@pytest.mark.parametrize(
    "name, options",
    [("SGD", {"lr": 0.1, "momentum": 0.9}), ("Adam", {"lr": 0.01}), ("AdamW", {"lr": 0.01, "amsgrad": True}),
     ("RMSprop", {"lr": 0.01, "centered": True}), ("Adagrad", {"lr": 0.1})],
)  # fmt: skip
def test_training_a_small_model_matches_torch(name, options):
    """The real loop: forward, MSE loss, backward through shendu's autograd, step — against torch."""
    torch_model = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.Tanh(), torch.nn.Linear(6, 2)).double()
    model = nn.Sequential(nn.Linear(4, 6, dtype=shendu.float64), nn.Tanh(), nn.Linear(6, 2, dtype=shendu.float64))
    copy_torch_weights(torch_model, model)
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((16, 4)), rng.standard_normal((16, 2))
    opt = getattr(optim, name)(model.parameters(), **options)
    torch_opt = getattr(torch.optim, name)(torch_model.parameters(), **options)
    for _ in range(STEPS):
        opt.zero_grad()
        loss = ((model(shendu.tensor(x)) - shendu.tensor(y)) ** 2).mean()
        loss.backward()
        opt.step()
        torch_opt.zero_grad()
        torch_loss = ((torch_model(torch.tensor(x)) - torch.tensor(y)) ** 2).mean()
        torch_loss.backward()
        torch_opt.step()
        assert abs(loss.item() - torch_loss.item()) < 1e-6
    _assert_same(list(model.parameters()), list(torch_model.parameters()))


def test_plain_sgd_is_exactly_the_seed_gradient_descent():
    """``w ← w − η·∂E/∂w``: SGD with no options gives bit-for-bit that update."""
    rng = np.random.default_rng(0)
    w = nn.Parameter(rng.standard_normal((3, 4)))
    expected = w.detach().numpy().copy()
    opt = optim.SGD([w], lr=0.5)
    for _ in range(5):
        g = rng.standard_normal((3, 4))
        w.grad = shendu.tensor(g)
        opt.step()
        expected = expected - 0.5 * g
        np.testing.assert_array_equal(w.detach().numpy(), expected)
    assert len(opt.state) == 0


def test_seed_example_one_update_of_the_2_2_2_network():
    """001's worked example: one SGD step (lr 0.5) gives the article's w5 and w1."""
    w1 = nn.Parameter(np.array([[0.15, 0.20], [0.25, 0.30]]))
    w2 = nn.Parameter(np.array([[0.40, 0.45], [0.50, 0.55]]))
    x, t = shendu.tensor(np.array([0.05, 0.10])), shendu.tensor(np.array([0.01, 0.99]))
    h = (w1 @ x + 0.35).sigmoid()
    o = (w2 @ h + 0.60).sigmoid()
    (0.5 * ((t - o) ** 2).sum()).backward()
    optim.SGD([w1, w2], lr=0.5).step()
    np.testing.assert_allclose(w2.detach().numpy(), [[0.35891648, 0.408666186], [0.511301270, 0.561370121]], atol=1e-8)
    np.testing.assert_allclose(w1.detach().numpy(), [[0.149780716, 0.19956143], [0.24975114, 0.29950229]], atol=1e-8)


def test_float32_parameters_stay_float32_and_track_torch():
    arrays = _initial(dtype=np.float32)
    mine = [nn.Parameter(a.copy()) for a in arrays]
    theirs = [torch.nn.Parameter(torch.tensor(a.copy())) for a in arrays]
    opt_mine, opt_theirs = optim.Adam(mine, lr=0.01), torch.optim.Adam(theirs, lr=0.01)
    for t in range(20):
        _step_both(t, mine, theirs, opt_mine, opt_theirs)
    assert all(p.dtype == shendu.float32 for p in mine)
    assert all(v.dtype == np.float32 for k, v in opt_mine.state[mine[0]].items() if k != "step")
    _assert_same(mine, theirs, atol=1e-5)


# ----- state_dict --------------------------------------------------------------------------------
RESUME_CASES = [
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    ("SGD", {"lr": 0.05}),
    ("Adam", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.1}),
    ("AdamW", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.5}),
    ("Adagrad", {"lr": 0.05, "lr_decay": 0.01, "initial_accumulator_value": 0.1}),
]


def _json_like(state_dict):
    """What a JSON round trip does to a state dict: string keys, lists for tuples (arrays kept aside)."""
    arrays = {}

    def strip(value, path):
        if isinstance(value, np.ndarray):
            arrays[path] = value
            return {"__array__": path}
        if isinstance(value, dict):
            return {str(k): strip(v, f"{path}/{k}") for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [strip(v, f"{path}/{i}") for i, v in enumerate(value)]
        return value

    def put_back(value):
        if isinstance(value, dict):
            if "__array__" in value:
                return arrays[value["__array__"]]
            return {k: put_back(v) for k, v in value.items()}
        if isinstance(value, list):
            return [put_back(v) for v in value]
        return value

    return put_back(json.loads(json.dumps(strip(state_dict, ""))))


@pytest.mark.parametrize("name, options", RESUME_CASES)
@pytest.mark.parametrize("through_json", [False, True])
def test_state_dict_round_trip_mid_run_continues_identically(name, options, through_json):
    mine, _, opt, _ = _pair(name, options)
    for t in range(25):
        for p in mine:
            p.grad = shendu.tensor(_grad_fn(t, p.detach().numpy()))
        opt.step()
    saved = opt.state_dict()
    snapshot = [p.detach().numpy().copy() for p in mine]
    resumed = [nn.Parameter(a.copy()) for a in snapshot]
    opt2 = getattr(optim, name)(resumed, **options)
    opt2.load_state_dict(_json_like(saved) if through_json else saved)
    for t in range(25, STEPS):
        for params, o in ((mine, opt), (resumed, opt2)):
            for p in params:
                p.grad = shendu.tensor(_grad_fn(t, p.detach().numpy()))
            o.step()
        for p, q in zip(mine, resumed):
            np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())


@pytest.mark.parametrize("name, options", RESUME_CASES)
def test_state_dict_has_torch_names_and_values_and_loads_a_torch_one(name, options):
    mine, theirs, opt_mine, opt_theirs = _pair(name, options)
    for t in range(10):
        _step_both(t, mine, theirs, opt_mine, opt_theirs)
    ours, torchs = opt_mine.state_dict(), opt_theirs.state_dict()
    assert sorted(ours["state"]) == sorted(torchs["state"])
    for index, state in torchs["state"].items():
        assert sorted(ours["state"][index]) == sorted(state)
        for key, value in state.items():
            np.testing.assert_allclose(np.asarray(ours["state"][index][key]), value.numpy(), atol=1e-10, err_msg=key)
    for g_ours, g_torch in zip(ours["param_groups"], torchs["param_groups"]):
        assert all(g_ours[k] == g_torch[k] for k in g_ours)
    # a torch state dict (as NumPy) resumes a fresh shendu optimiser in step with torch
    converted = {
        "state": {i: {k: v.numpy().copy() for k, v in s.items()} for i, s in torchs["state"].items()},
        "param_groups": [{k: v for k, v in g.items() if k in ours["param_groups"][0]} for g in torchs["param_groups"]],
    }
    fresh = [nn.Parameter(q.detach().numpy().copy()) for q in theirs]
    opt_fresh = getattr(optim, name)(fresh, **options)
    opt_fresh.load_state_dict(converted)
    for t in range(10, 20):
        _step_both(t, fresh, theirs, opt_fresh, opt_theirs)
        _assert_same(fresh, theirs, what=f"step {t}")


def test_state_dict_is_a_snapshot_of_plain_data():
    mine, _, opt, _ = _pair("Adam", {"lr": 0.1})
    for p in mine:
        p.grad = shendu.tensor(np.ones(p.shape))
    opt.step()
    saved = opt.state_dict()
    before = saved["state"][0]["exp_avg"].copy()
    opt.step()
    np.testing.assert_array_equal(saved["state"][0]["exp_avg"], before)
    assert isinstance(saved["state"][0]["step"], int) and isinstance(before, np.ndarray)
    assert saved["param_groups"][0]["params"] == [0, 1, 2]


def test_changing_beta1_mid_run_keeps_the_moments_right():
    """Adam stores its moments scaled by 1/(1 − β); a β change (OneCycleLR does it) must rescale."""
    mine, theirs, opt_mine, opt_theirs = _pair("Adam", {"lr": 0.01, "amsgrad": True})
    for t in range(20):
        for o in (opt_mine, opt_theirs):
            o.param_groups[0]["betas"] = (0.85 + 0.005 * t, 0.99 - 0.001 * t)
        _step_both(t, mine, theirs, opt_mine, opt_theirs)
        _assert_same(mine, theirs, what=f"step {t}")


def test_load_state_dict_rejects_mismatched_groups():
    mine, _, opt, _ = _pair("SGD", {"lr": 0.1})
    saved = opt.state_dict()
    other = optim.SGD([nn.Parameter(np.ones(2))], lr=0.1)
    with pytest.raises(ValueError, match="doesn't match the size"):
        other.load_state_dict(saved)
    two_groups = optim.SGD([{"params": [nn.Parameter(np.ones(2))]}, {"params": [nn.Parameter(np.ones(2))]}], lr=0.1)
    with pytest.raises(ValueError, match="different number of parameter groups"):
        two_groups.load_state_dict(saved)
    with pytest.raises(ValueError, match="'state' and 'param_groups'"):
        opt.load_state_dict({"state": {}})
    bad = {"state": {0: {"step": 1, "bogus": np.ones(20)}}, "param_groups": saved["param_groups"]}
    adam = optim.Adam(mine, lr=0.1)
    with pytest.raises(ValueError, match="unknown state entry 'bogus'"):
        adam.load_state_dict(bad)


def test_load_state_dict_restores_group_options():
    p = nn.Parameter(np.ones(3))
    opt = optim.Adam([p], lr=0.1, betas=(0.8, 0.9))
    saved = opt.state_dict()
    opt2 = optim.Adam([nn.Parameter(np.ones(3))], lr=0.5)
    opt2.load_state_dict(_json_like(saved))
    assert opt2.param_groups[0]["lr"] == 0.1 and opt2.param_groups[0]["betas"] == (0.8, 0.9)


# ----- the Optimizer API --------------------------------------------------------------------------
def test_zero_grad_sets_to_none_or_zeros():
    p = nn.Parameter(np.ones(3))
    opt = optim.SGD([p], lr=0.1)
    p.grad = shendu.tensor(np.ones(3))
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(p.grad.numpy(), np.zeros(3))
    opt.zero_grad()
    assert p.grad is None


def test_step_with_closure_returns_the_loss_and_uses_fresh_gradients():
    w = nn.Parameter(np.array([1.0, -2.0]))
    opt = optim.SGD([w], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with shendu.no_grad():
        loss = opt.step(closure)
    assert loss.item() == 5.0
    np.testing.assert_allclose(w.detach().numpy(), [0.8, -1.6])


def test_add_param_group_trains_the_new_parameters_with_its_options():
    a, b = nn.Parameter(np.ones(2)), nn.Parameter(np.ones(2))
    opt = optim.SGD([a], lr=0.1, momentum=0.9)
    opt.add_param_group({"params": b, "lr": 0.5})
    assert opt.param_groups[1]["momentum"] == 0.9 and opt.param_groups[1]["lr"] == 0.5
    for p in (a, b):
        p.grad = shendu.tensor(np.ones(2))
    opt.step()
    np.testing.assert_allclose(a.detach().numpy(), [0.9, 0.9])
    np.testing.assert_allclose(b.detach().numpy(), [0.5, 0.5])


def test_lr_changed_in_the_group_takes_effect_next_step():
    p = nn.Parameter(np.zeros(1))
    opt = optim.SGD([p], lr=0.1)
    p.grad = shendu.tensor(np.ones(1))
    opt.step()
    opt.param_groups[0]["lr"] = 1.0
    opt.step()
    np.testing.assert_allclose(p.detach().numpy(), [-1.1])


def test_replacing_a_parameters_array_is_noticed():
    """Module.load_state_dict or ``p.data = ...`` may give a parameter a new array; steps must follow it."""
    p = nn.Parameter(np.zeros(3))
    opt = optim.Adam([p], lr=0.1)
    p.grad = shendu.tensor(np.ones(3))
    opt.step()
    p.data = np.full(3, 5.0)
    opt.step()
    assert np.all(p.detach().numpy() < 5.0) and np.all(p.detach().numpy() > 4.5)


def test_a_parameter_appended_to_a_group_or_changing_dtype_keeps_everyones_state():
    """The flat layout is rebuilt when a group's parameters change; the state moves over, as in torch."""
    mine, theirs, opt_mine, opt_theirs = _pair("Adam", {"lr": 0.01})
    for t in range(5):
        _step_both(t, mine[:2], theirs[:2], opt_mine, opt_theirs)
    opt_mine.param_groups[0]["params"] = mine[:2]
    opt_theirs.param_groups[0]["params"] = theirs[:2]
    for t in range(5, 8):
        _step_both(t, mine[:2], theirs[:2], opt_mine, opt_theirs)
    opt_mine.param_groups[0]["params"].append(mine[2])
    opt_theirs.param_groups[0]["params"].append(theirs[2])
    for t in range(8, 12):
        _step_both(t, mine, theirs, opt_mine, opt_theirs)
        _assert_same(mine, theirs, what=f"step {t}")
    mine[0]._array = mine[0]._array.astype(np.float32)  # what Module.float() does to a parameter
    for t in range(12, 14):
        _step_both(t, mine, theirs, opt_mine, opt_theirs)
    assert opt_mine.state[mine[0]]["exp_avg"].dtype == np.float32 and opt_mine.state[mine[0]]["step"] == 14
    _assert_same(mine, theirs, atol=1e-5)


def test_named_parameters_are_accepted_and_the_names_kept():
    model = nn.Linear(3, 2)
    opt = optim.SGD(model.named_parameters(), lr=0.1)
    assert opt.param_groups[0]["param_names"] == ["weight", "bias"]


def test_state_view_is_read_only():
    p = nn.Parameter(np.ones(2))
    opt = optim.Adam([p])
    with pytest.raises(AttributeError, match="read-only"):
        opt.state = {}


def test_repr_lists_the_groups():
    text = repr(optim.SGD([nn.Parameter(np.ones(2))], lr=0.25))
    assert text.startswith("SGD (") and "lr: 0.25" in text


def test_user_subclass_of_optimizer_works_like_torch():
    class SignSGD(optim.Optimizer):
        def __init__(self, params, lr=0.1):
            super().__init__(params, {"lr": lr})

        def step(self, closure=None):
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is not None:
                        p.data = p.data - group["lr"] * np.sign(p.grad.numpy())
                        self.state[p]["step"] = self.state[p].get("step", 0) + 1

    p = nn.Parameter(np.array([1.0, -1.0]))
    opt = SignSGD([p])
    p.grad = shendu.tensor(np.array([3.0, -0.5]))
    opt.step()
    np.testing.assert_allclose(p.detach().numpy(), [0.9, -0.9])
    saved = opt.state_dict()
    assert saved["state"] == {0: {"step": 1}}
    opt.load_state_dict(saved)
    assert opt.state[p]["step"] == 1


# ----- bad input ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name, options, message",
    [
        ("SGD", {"lr": -1}, "Invalid learning rate: -1"),
        ("SGD", {"momentum": -0.5}, "Invalid momentum value: -0.5"),
        ("SGD", {"weight_decay": -1e-4}, "Invalid weight_decay value: -0.0001"),
        ("SGD", {"nesterov": True}, "Nesterov momentum requires a momentum and zero dampening"),
        ("SGD", {"nesterov": True, "momentum": 0.9, "dampening": 0.1}, "Nesterov momentum requires"),
        ("Adam", {"lr": -0.1}, "Invalid learning rate: -0.1"),
        ("Adam", {"eps": -1.0}, "Invalid epsilon value: -1.0"),
        ("Adam", {"betas": (1.0, 0.999)}, "Invalid beta parameter at index 0: 1.0"),
        ("Adam", {"betas": (0.9, -0.1)}, "Invalid beta parameter at index 1: -0.1"),
        ("Adam", {"betas": (0.9,)}, "betas must be a pair"),
        ("AdamW", {"weight_decay": -1}, "Invalid weight_decay value: -1"),
        ("RMSprop", {"alpha": -0.1}, "Invalid alpha value: -0.1"),
        ("RMSprop", {"eps": -1}, "Invalid epsilon value: -1"),
        ("Adagrad", {"lr_decay": -1}, "Invalid lr_decay value: -1"),
        ("Adagrad", {"initial_accumulator_value": -1}, "Invalid initial_accumulator_value value: -1"),
        ("SGD", {"lr": float("nan")}, "Invalid learning rate: nan"),
    ],
)
def test_invalid_options_raise_torchs_messages(name, options, message):
    with pytest.raises(ValueError, match=message):
        getattr(optim, name)([nn.Parameter(np.ones(2))], **options)


def test_non_numeric_option_is_a_type_error():
    with pytest.raises(TypeError, match="lr must be a real number; got str"):
        optim.SGD([nn.Parameter(np.ones(2))], lr="0.1")


def test_invalid_option_in_a_group_is_caught_too():
    with pytest.raises(ValueError, match="Invalid learning rate: -2"):
        optim.Adam([{"params": [nn.Parameter(np.ones(2))], "lr": -2}])


def test_unknown_group_option_is_named():
    with pytest.raises(ValueError, match="unknown option.*'momentum'.*the options are 'lr'"):
        optim.Adam([{"params": [nn.Parameter(np.ones(2))], "momentum": 0.9}])


def test_a_parameter_twice_is_an_error():
    p = nn.Parameter(np.ones(2))
    with pytest.raises(ValueError, match="duplicate parameters"):
        optim.SGD([p, p], lr=0.1)
    opt = optim.SGD([p], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [p]})


@pytest.mark.parametrize(
    "params, error, message",
    [
        ([], ValueError, "empty parameter list"),
        ("tensor", TypeError, "should be an iterable of Tensors or dicts"),
        ("set", TypeError, "ordered collections"),
        ([np.ones(2)], TypeError, "can only optimize Tensors, but one of the params is ndarray"),
        ("non-leaf", ValueError, "can't optimize a non-leaf Tensor"),
        (5, TypeError, "should be an iterable"),
    ],
)
def test_bad_params_raise(params, error, message):
    p = nn.Parameter(np.ones(2))
    params = {"tensor": p, "set": {p}, "non-leaf": [p * 2]}.get(params, params) if isinstance(params, str) else params
    with pytest.raises(error, match=message):
        optim.SGD(params, lr=0.1)


def test_add_param_group_needs_a_dict_with_params():
    opt = optim.SGD([nn.Parameter(np.ones(2))], lr=0.1)
    with pytest.raises(TypeError, match="param_group must be a dict"):
        opt.add_param_group([nn.Parameter(np.ones(2))])
    with pytest.raises(ValueError, match="must have a 'params' entry"):
        opt.add_param_group({"lr": 0.1})


def test_required_option_missing_from_a_group():
    class Needy(optim.Optimizer):
        def __init__(self, params):
            super().__init__(params, {"lr": optim.required})

    with pytest.raises(ValueError, match="didn't specify a value of required optimization parameter lr"):
        Needy([nn.Parameter(np.ones(2))])
