"""RNN, LSTM, GRU and their cells against PyTorch (copied weights), float64 gradient checks, bad input."""

import math

import numpy as np
import pytest
import torch

import shendu
from shendu import nn
from shendu.ops.recurrent import gru_sequence, lstm_sequence, rnn_sequence
from tests.helpers import assert_close, copy_torch_weights

ATOL, RTOL = 1e-5, 1e-4


def _layers(kind, input_size, hidden_size, **kwargs):
    """The same layer in both frameworks, shendu's weights copied from torch's."""
    t_layer = getattr(torch.nn, kind)(input_size, hidden_size, **kwargs)
    s_layer = getattr(nn, kind)(input_size, hidden_size, **kwargs)
    return t_layer, copy_torch_weights(t_layer, s_layer)


def _leaves(arrays):
    return [torch.tensor(a, requires_grad=True) for a in arrays], [shendu.tensor(a, requires_grad=True) for a in arrays]


def _flatten(out):
    """(output, h) or (output, (h, c)) as a flat list."""
    first, rest = out
    return [first] + (list(rest) if isinstance(rest, tuple) else [rest])


def _compare(t_layer, s_layer, x, states=None, atol=ATOL, rtol=RTOL, grad_atol=None):
    """Forward both layers on x (and initial states), compare every output, then every gradient."""
    grad_atol = atol if grad_atol is None else grad_atol
    (t_x, *t_states), (s_x, *s_states) = _leaves([x] + list(states or []))
    lstm = isinstance(t_layer, (torch.nn.LSTM, torch.nn.LSTMCell))
    t_args = [t_x] + ([tuple(t_states) if lstm else t_states[0]] if states else [])
    s_args = [s_x] + ([tuple(s_states) if lstm else s_states[0]] if states else [])
    t_out, s_out = t_layer(*t_args), s_layer(*s_args)
    if isinstance(t_layer, torch.nn.RNNBase):
        t_out, s_out = _flatten(t_out), _flatten(s_out)
    else:
        t_out = list(t_out) if isinstance(t_out, tuple) else [t_out]
        s_out = list(s_out) if isinstance(s_out, tuple) else [s_out]
    assert len(t_out) == len(s_out)
    rng = np.random.default_rng(1)
    probes = [rng.uniform(-1, 1, size=tuple(t.shape)).astype(x.dtype) for t in t_out]
    for i, (s, t) in enumerate(zip(s_out, t_out)):
        assert s.dtype == shendu.float32 if x.dtype == np.float32 else shendu.float64
        assert_close(s, t, atol, rtol, f"output {i}")
    sum((t * torch.tensor(p)).sum() for t, p in zip(t_out, probes)).backward()
    sum((s * shendu.tensor(p)).sum() for s, p in zip(s_out, probes)).backward()
    assert_close(s_x.grad, t_x.grad, grad_atol, rtol, "gradient of the input")
    for i, (s, t) in enumerate(zip(s_states, t_states)):
        assert_close(s.grad, t.grad, grad_atol, rtol, f"gradient of initial state {i}")
    t_params = dict(t_layer.named_parameters())
    s_params = dict(s_layer.named_parameters())
    assert list(s_params) == list(t_params)
    for name, t in t_params.items():
        assert_close(s_params[name].grad, t.grad, grad_atol, rtol, f"gradient of {name}")


def _sequence(T, N, I, batch_first=False, seed=0, dtype=np.float32):
    shape = (N, T, I) if batch_first else (T, N, I)
    return np.random.default_rng(seed).uniform(-1, 1, size=shape).astype(dtype)


def _states(kind, count, N, H, seed=2):
    rng = np.random.default_rng(seed)
    return [rng.uniform(-1, 1, size=(count, N, H)).astype(np.float32) for _ in range(2 if kind == "LSTM" else 1)]


LAYERS = [("RNN", {}), ("RNN", {"nonlinearity": "relu"}), ("LSTM", {}), ("GRU", {})]
CONFIGS = [
    {"num_layers": 2},
    {"bidirectional": True},
    {"batch_first": True},
    {"num_layers": 2, "bidirectional": True, "batch_first": True},
    {"bias": False},
]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()))
@pytest.mark.parametrize("kind, extra", LAYERS, ids=["rnn_tanh", "rnn_relu", "lstm", "gru"])
def test_sequence_layer_matches_torch_with_initial_states(kind, extra, config):
    t_layer, s_layer = _layers(kind, 4, 5, **extra, **config)
    directions = 2 if config.get("bidirectional") else 1
    count = config.get("num_layers", 1) * directions
    x = _sequence(6, 3, 4, config.get("batch_first", False))
    _compare(t_layer, s_layer, x, _states(kind, count, 3, 5))


@pytest.mark.parametrize("kind, extra", LAYERS, ids=["rnn_tanh", "rnn_relu", "lstm", "gru"])
def test_sequence_layer_matches_torch_with_zero_states(kind, extra):
    t_layer, s_layer = _layers(kind, 4, 5, num_layers=2, bidirectional=True, **extra)
    _compare(t_layer, s_layer, _sequence(6, 3, 4))


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_fifty_time_steps_match_torch(kind):
    t_layer, s_layer = _layers(kind, 8, 16, num_layers=2, batch_first=True)
    x = _sequence(50, 4, 8, batch_first=True)
    _compare(t_layer, s_layer, x, _states(kind, 2, 4, 16), atol=1e-4, grad_atol=1e-4)


def test_long_batch_first_sequence_matches_torch():
    """Large enough (> 512 KB of gate gradients) to take the step-by-step transposition path."""
    t_layer, s_layer = _layers("LSTM", 4, 16, batch_first=True)
    _compare(t_layer, s_layer, _sequence(40, 64, 4, batch_first=True), atol=1e-4, grad_atol=1e-4)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_unbatched_input_matches_torch(kind, batch_first):
    t_layer, s_layer = _layers(kind, 4, 5, num_layers=2, bidirectional=True, batch_first=batch_first)
    x = np.random.default_rng(0).uniform(-1, 1, size=(6, 4)).astype(np.float32)
    states = [s[:, 0] for s in _states(kind, 4, 1, 5)]
    _compare(t_layer, s_layer, x, states)


def test_lstm_output_layout_and_final_states():
    lstm = nn.LSTM(4, 5, num_layers=2, bidirectional=True, batch_first=True)
    output, (h_n, c_n) = lstm(shendu.randn(3, 7, 4))
    assert output.shape == (3, 7, 10)
    assert h_n.shape == c_n.shape == (4, 3, 5)
    # the top layer's forward direction ends at the last step, its reverse direction at the first
    assert_close(h_n[2], output[:, -1, :5], 0, 0)
    assert_close(h_n[3], output[:, 0, 5:], 0, 0)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_gradients_through_final_state_only_match_torch(kind):
    """The seed classifier's case: only h_n feeds the loss, so ∂L/∂output is all zeros."""
    t_layer, s_layer = _layers(kind, 4, 5, batch_first=True, bidirectional=True)
    x = _sequence(7, 3, 4, batch_first=True)
    (t_x,), (s_x,) = _leaves([x])
    t_h = t_layer(t_x)[1]
    s_h = s_layer(s_x)[1]
    t_h, s_h = (t_h[0], s_h[0]) if kind == "LSTM" else (t_h, s_h)
    probe = np.random.default_rng(1).uniform(-1, 1, size=tuple(t_h.shape)).astype(np.float32)
    (t_h * torch.tensor(probe)).sum().backward()
    (s_h * shendu.tensor(probe)).sum().backward()
    assert_close(s_x.grad, t_x.grad, ATOL, RTOL, "gradient of the input")
    for name, t in t_layer.named_parameters():
        assert_close(dict(s_layer.named_parameters())[name].grad, t.grad, ATOL, RTOL, f"gradient of {name}")


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_batch_of_one_and_hidden_size_one(kind):
    t_layer, s_layer = _layers(kind, 2, 1)
    _compare(t_layer, s_layer, _sequence(4, 1, 2), _states(kind, 1, 1, 1))


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_backward_twice_with_retain_graph_gives_the_same_gradients(kind):
    layer = getattr(nn, kind)(3, 4)
    x = shendu.randn(5, 2, 3, requires_grad=True)
    loss = (layer(x)[0] ** 2).sum()
    loss.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    layer(shendu.randn(5, 2, 3))  # another forward in between must not disturb the kept graph
    x.grad = None
    loss.backward()
    assert_close(x.grad, first, 0, 0, "second backward")


CELLS = [
    ("RNNCell", {}),
    ("RNNCell", {"nonlinearity": "relu"}),
    ("LSTMCell", {}),
    ("GRUCell", {}),
    ("GRUCell", {"bias": False}),
]


@pytest.mark.parametrize("kind, extra", CELLS, ids=["rnn_tanh", "rnn_relu", "lstm", "gru", "gru_nobias"])
@pytest.mark.parametrize("with_state", [True, False])
def test_cell_matches_torch(kind, extra, with_state):
    t_cell, s_cell = _layers(kind, 4, 5, **extra)
    x = np.random.default_rng(0).uniform(-1, 1, size=(3, 4)).astype(np.float32)
    rng = np.random.default_rng(3)
    states = [rng.uniform(-1, 1, size=(3, 5)).astype(np.float32) for _ in range(2 if kind == "LSTMCell" else 1)]
    _compare(t_cell, s_cell, x, states if with_state else None)


@pytest.mark.parametrize("kind", ["RNNCell", "LSTMCell", "GRUCell"])
def test_unbatched_cell_matches_torch(kind):
    t_cell, s_cell = _layers(kind, 4, 5)
    x = np.random.default_rng(0).uniform(-1, 1, size=(4,)).astype(np.float32)
    states = [
        np.random.default_rng(i).uniform(-1, 1, size=(5,)).astype(np.float32)
        for i in range(2 if kind == "LSTMCell" else 1)
    ]
    _compare(t_cell, s_cell, x, states)


def test_cell_unrolled_equals_sequence_layer():
    lstm = nn.LSTM(3, 4)
    cell = nn.LSTMCell(3, 4)
    cell.load_state_dict({k[:-3]: v for k, v in lstm.state_dict().items()})
    x = shendu.randn(5, 2, 3)
    output, (h_n, c_n) = lstm(x)
    h = c = shendu.zeros(2, 4)
    for t in range(5):
        h, c = cell(x[t], (h, c))
        assert_close(h, output[t], 1e-6, 1e-6, f"step {t}")
    assert_close(c, c_n[0], 1e-6, 1e-6)


# ----- float64 gradient checks of the fused ops ---------------------------------------------


def _params64(rng, gates, I, H, bias=True):
    shapes = [(gates * H, I), (gates * H, H)] + ([(gates * H,), (gates * H,)] if bias else [])
    return [shendu.tensor(rng.uniform(-0.8, 0.8, size=s), requires_grad=True) for s in shapes]


@pytest.mark.parametrize("reverse, batch_first", [(False, False), (True, True)])
@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_rnn_sequence_gradcheck(reverse, batch_first, nonlinearity):
    rng = np.random.default_rng(0)
    x = shendu.tensor(rng.uniform(-1, 1, size=(2, 3, 2) if batch_first else (3, 2, 2)), requires_grad=True)
    h = shendu.tensor(rng.uniform(-1, 1, size=(2, 3)), requires_grad=True)
    params = _params64(rng, 1, 2, 3)

    def fn(*inputs):
        return rnn_sequence(*inputs, nonlinearity=nonlinearity, reverse=reverse, batch_first=batch_first)

    assert shendu.autograd.gradcheck(fn, [x, h, *params])


@pytest.mark.parametrize("reverse, batch_first, bias", [(False, False, True), (True, True, True), (False, True, False)])
def test_lstm_sequence_gradcheck(reverse, batch_first, bias):
    rng = np.random.default_rng(0)
    x = shendu.tensor(rng.uniform(-1, 1, size=(2, 3, 2) if batch_first else (3, 2, 2)), requires_grad=True)
    h, c = (shendu.tensor(rng.uniform(-1, 1, size=(2, 3)), requires_grad=True) for _ in range(2))
    params = _params64(rng, 4, 2, 3, bias)

    def fn(*inputs):
        return lstm_sequence(*inputs, reverse=reverse, batch_first=batch_first)

    assert shendu.autograd.gradcheck(fn, [x, h, c, *params])


@pytest.mark.parametrize("reverse, batch_first, bias", [(False, False, True), (True, True, True), (False, True, False)])
def test_gru_sequence_gradcheck(reverse, batch_first, bias):
    rng = np.random.default_rng(0)
    x = shendu.tensor(rng.uniform(-1, 1, size=(2, 3, 2) if batch_first else (3, 2, 2)), requires_grad=True)
    h = shendu.tensor(rng.uniform(-1, 1, size=(2, 3)), requires_grad=True)
    params = _params64(rng, 3, 2, 3, bias)

    def fn(*inputs):
        return gru_sequence(*inputs, reverse=reverse, batch_first=batch_first)

    assert shendu.autograd.gradcheck(fn, [x, h, *params])


def test_stacked_bidirectional_lstm_module_gradcheck():
    lstm = nn.LSTM(2, 2, num_layers=2, bidirectional=True, dtype=shendu.float64)
    rng = np.random.default_rng(0)
    x = shendu.tensor(rng.uniform(-1, 1, size=(3, 2, 2)), requires_grad=True)
    h0, c0 = (shendu.tensor(rng.uniform(-1, 1, size=(4, 2, 2)), requires_grad=True) for _ in range(2))
    params = list(lstm.parameters())

    def fn(x, h0, c0, *weights):
        output, (h_n, c_n) = lstm(x, (h0, c0))
        return output, h_n, c_n

    assert shendu.autograd.gradcheck(fn, [x, h0, c0, *params])


# ----- state dicts, parameters, modes --------------------------------------------------------


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_state_dict_round_trip_with_torch(kind):
    s_layer = getattr(nn, kind)(4, 5, num_layers=2, bidirectional=True)
    t_layer = getattr(torch.nn, kind)(4, 5, num_layers=2, bidirectional=True)
    state = {k: torch.tensor(v.numpy()) for k, v in s_layer.state_dict().items()}
    assert list(state) == list(t_layer.state_dict())
    t_layer.load_state_dict(state)  # shendu → torch
    back = nn.__dict__[kind](4, 5, num_layers=2, bidirectional=True)
    copy_torch_weights(t_layer, back)  # torch → shendu
    x = _sequence(5, 2, 4)
    expected = _flatten(t_layer(torch.tensor(x)))
    for s_out in (_flatten(s_layer(shendu.tensor(x))), _flatten(back(shendu.tensor(x)))):
        for s, t in zip(s_out, expected):
            assert_close(s, t, ATOL, RTOL)


@pytest.mark.parametrize("kind, gates", [("RNN", 1), ("LSTM", 4), ("GRU", 3)])
def test_parameters_have_torch_names_shapes_and_init_bounds(kind, gates):
    s_layer = getattr(nn, kind)(6, 8, num_layers=2, bidirectional=True)
    t_layer = getattr(torch.nn, kind)(6, 8, num_layers=2, bidirectional=True)
    s_shapes = {k: tuple(v.shape) for k, v in s_layer.named_parameters()}
    assert s_shapes == {k: tuple(v.shape) for k, v in t_layer.named_parameters()}
    assert s_shapes["weight_ih_l1_reverse"] == (gates * 8, 16)
    bound = 1 / math.sqrt(8)
    for name, param in s_layer.named_parameters():
        values = param.detach().numpy()
        assert values.min() >= -bound and values.max() <= bound, name
        assert values.std() > bound / 3, f"{name} is not spread over U(-1/√H, 1/√H)"


def test_cell_parameters_have_torch_names():
    for kind in ("RNNCell", "LSTMCell", "GRUCell"):
        s_names = [k for k, _ in getattr(nn, kind)(3, 4).named_parameters()]
        assert s_names == [k for k, _ in getattr(torch.nn, kind)(3, 4).named_parameters()]


def test_dropout_between_layers_only_in_training():
    lstm = nn.LSTM(4, 5, num_layers=3, dropout=0.5)
    x = shendu.randn(6, 3, 4)
    lstm.eval()
    eval_out = lstm(x)[0].detach().numpy()
    assert np.array_equal(lstm(x)[0].detach().numpy(), eval_out)
    lstm.train()
    shendu.manual_seed(1)
    first = lstm(x)[0].detach().numpy()
    shendu.manual_seed(1)
    again = lstm(x)[0].detach().numpy()
    assert np.array_equal(first, again), "dropout masks come from the global generator"
    assert not np.allclose(first, eval_out)
    t_layer = torch.nn.LSTM(4, 5, num_layers=3, dropout=0.5).eval()
    copy_torch_weights(t_layer, lstm)
    lstm.eval()
    assert_close(lstm(x)[0], t_layer(torch.tensor(x.numpy()))[0], ATOL, RTOL, "eval mode skips dropout")


def test_dropout_on_single_layer_warns_as_torch():
    with pytest.warns(UserWarning, match="num_layers greater than 1"):
        nn.GRU(4, 5, dropout=0.2)


def test_no_grad_forward_builds_no_graph():
    gru = nn.GRU(4, 5)
    with shendu.no_grad():
        output, h_n = gru(shendu.randn(3, 2, 4))
    assert not output.requires_grad and output.grad_fn is None and h_n.grad_fn is None


@pytest.mark.parametrize("layer", [nn.RNN, nn.LSTM, nn.GRU])
def test_float64_input_to_a_float32_layer_is_an_error_naming_both_dtypes(layer):
    rnn = layer(4, 5)
    with pytest.raises(ValueError) as ours:
        rnn(shendu.randn(3, 2, 4, dtype=shendu.float64))
    torch_rnn = getattr(torch.nn, layer.__name__)(4, 5)
    with pytest.raises(ValueError) as theirs:  # PyTorch refuses it too, in the same words
        torch_rnn(torch.randn(3, 2, 4, dtype=torch.float64))
    assert str(ours.value).replace("shendu.", "torch.").replace(layer.__name__, "RNN") == str(theirs.value)


def test_repr_matches_torch():
    assert repr(nn.LSTM(10, 20, num_layers=2, batch_first=True)) == repr(
        torch.nn.LSTM(10, 20, num_layers=2, batch_first=True)
    )
    # torch leaves the nonlinearity out of RNN's repr; shendu shows it when it is not the default
    assert repr(nn.RNN(3, 4, nonlinearity="relu", bias=False)) == "RNN(3, 4, nonlinearity=relu, bias=False)"
    assert repr(nn.GRU(3, 4, bidirectional=True, dropout=0.5, num_layers=2)) == repr(
        torch.nn.GRU(3, 4, bidirectional=True, dropout=0.5, num_layers=2)
    )
    assert repr(nn.LSTMCell(3, 4)) == repr(torch.nn.LSTMCell(3, 4))
    assert repr(nn.RNNCell(3, 4, nonlinearity="relu")) == repr(torch.nn.RNNCell(3, 4, nonlinearity="relu"))


# ----- bad input ----------------------------------------------------------------------------------


def test_wrong_input_size_names_layer_and_shapes():
    lstm = nn.LSTM(4, 5)
    with pytest.raises(
        ValueError, match=r"LSTM\(input_size=4, hidden_size=5\) got input of shape \(6, 3, 7\); expected \(L, N, 4\)"
    ):
        lstm(shendu.randn(6, 3, 7))
    with pytest.raises(ValueError, match=r"got input of shape \(3, 6, 7\); expected \(N, L, 4\)"):
        nn.GRU(4, 5, batch_first=True)(shendu.randn(3, 6, 7))


def test_wrong_rank_names_layer_and_shapes():
    with pytest.raises(
        ValueError, match=r"RNN\(input_size=4, hidden_size=5\) got input of shape \(2, 6, 3, 4\); expected"
    ):
        nn.RNN(4, 5)(shendu.randn(2, 6, 3, 4))
    with pytest.raises(
        ValueError, match=r"GRUCell\(input_size=4, hidden_size=5\) got input of shape \(2, 3, 4\); expected \(N, 4\)"
    ):
        nn.GRUCell(4, 5)(shendu.randn(2, 3, 4))


def test_wrong_initial_state_shape_names_expected_shape():
    lstm = nn.LSTM(4, 5, num_layers=2)
    h0, c0 = shendu.zeros(2, 3, 5), shendu.zeros(1, 3, 5)
    with pytest.raises(ValueError, match=r"got c0 of shape \(1, 3, 5\); expected \(2, 3, 5\)"):
        lstm(shendu.randn(6, 3, 4), (h0, c0))
    with pytest.raises(ValueError, match=r"got hx of shape \(1, 4, 5\); expected \(1, 3, 5\)"):
        nn.GRU(4, 5)(shendu.randn(6, 3, 4), shendu.zeros(1, 4, 5))
    with pytest.raises(TypeError, match=r"expects hx as a tuple \(h0, c0\)"):
        lstm(shendu.randn(6, 3, 4), h0)
    with pytest.raises(
        ValueError, match=r"LSTMCell\(input_size=4, hidden_size=5\) got c of shape \(3, 4\); expected \(3, 5\)"
    ):
        nn.LSTMCell(4, 5)(shendu.randn(3, 4), (shendu.zeros(3, 5), shendu.zeros(3, 4)))


def test_integer_input_is_a_type_error():
    with pytest.raises(TypeError, match="floating-point input; got dtype shendu.int64"):
        nn.LSTM(4, 5)(shendu.tensor([[[1, 2, 3, 4]]]))


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: nn.LSTM(4, 0), "hidden_size must be a positive integer. Received: hidden_size=0"),
        (lambda: nn.GRU(0, 4), "input_size must be a positive integer"),
        (lambda: nn.RNN(4, 4, num_layers=0), "num_layers must be a positive integer"),
        (
            lambda: nn.LSTM(4, 4, num_layers=2, dropout=1.5),
            r"dropout must be a number in \[0, 1\]. Received: dropout=1.5",
        ),
        (lambda: nn.RNN(4, 4, nonlinearity="sigmoid"), "nonlinearity must be 'tanh' or 'relu'"),
        (lambda: nn.RNNCell(4, 4, nonlinearity="gelu"), "nonlinearity must be 'tanh' or 'relu'"),
        (lambda: nn.GRUCell(4, -1), "hidden_size must be a positive integer"),
    ],
)
def test_invalid_arguments_raise_at_construction(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_functional_sequence_checks_weight_shapes():
    x, h = shendu.randn(3, 2, 4), shendu.zeros(2, 5)
    with pytest.raises(ValueError, match=r"weight_ih has shape \(20, 3\); expected \(20, 4\)"):
        lstm_sequence(x, h, h, shendu.randn(20, 3), shendu.randn(20, 5))
    with pytest.raises(ValueError, match="give both bias_ih and bias_hh"):
        gru_sequence(x, h, shendu.randn(15, 4), shendu.randn(15, 5), bias_ih=shendu.randn(15))


def test_scratch_pool_reuses_buffers_within_its_byte_limit():
    from shendu.ops.recurrent import _ScratchPool

    pool = _ScratchPool(per_shape=2, max_bytes=4096)
    a = pool.take((4, 8), np.float32)
    pool.give(a)
    assert pool.take((4, 8), np.float32) is a, "a returned buffer is handed out again"
    assert pool.take((4, 8), np.float64) is not a, "buffers are kept per dtype"
    pool.give(np.empty((64, 64), np.float32))  # larger than a quarter of the limit: not kept
    pool.give(a[:2])  # a view: not kept
    pool.give(*[np.empty((4, 8), np.float32) for _ in range(3)])  # only per_shape of them
    for shape in [(8, 8), (8, 9), (8, 10), (8, 11)]:
        pool.give(np.empty(shape, np.float32))
    assert pool._bytes <= 4096
    assert pool._bytes == sum(x.nbytes for stack in pool._free.values() for x in stack)
