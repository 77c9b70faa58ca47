"""shendu.onnx.export: every supported layer gives onnxruntime outputs equal to shendu's (1e-5), the
graph passes onnx.checker.check_model(full_check=True), the batch dimension stays dynamic, and
unsupported layers stop the export with a message naming them."""

import numpy as np
import pytest

import shendu
from shendu import nn

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
import shendu.onnx as shendu_onnx  # noqa: E402

ATOL = 1e-5


def _forward(model, x):
    with shendu.no_grad():
        out = model(*(shendu.tensor(a) for a in (x if isinstance(x, tuple) else (x,))))
    return [t.numpy() for t in (out if isinstance(out, (tuple, list)) else (out,))]


def assert_exports(model, sample, other=None, tmp_path=None, atol=ATOL):
    """Export on ``sample``; compare with shendu on ``sample`` and on ``other`` (another batch size)."""
    model.eval()
    path = None if tmp_path is None else tmp_path / "model.onnx"
    proto = shendu_onnx.export(model, sample, path)
    onnx.checker.check_model(proto, full_check=True)
    for x in (sample,) + (() if other is None else (other,)):
        expected = _forward(model, x)
        got = shendu_onnx.run(proto if path is None else path, *(x if isinstance(x, tuple) else (x,)))
        assert len(got) == len(expected)
        for e, g in zip(expected, got):
            assert g.shape == e.shape
            np.testing.assert_allclose(g, e, atol=atol, rtol=0)
    return proto


def _images(rng, n, c=1, h=28, w=28):
    return rng.random((n, c, h, w), dtype=np.float32)


# ----- the three seed models ---------------------------------------------------------------------
def test_seed_mlp_784_500_10_matches_onnxruntime(rng, tmp_path):
    model = nn.Sequential(nn.Linear(784, 500), nn.ReLU(), nn.Linear(500, 10))
    proto = assert_exports(model, rng.random((3, 784), dtype=np.float32), rng.random((7, 784), dtype=np.float32), tmp_path)
    assert (tmp_path / "model.onnx").stat().st_size > 784 * 500 * 4
    assert [o.name for o in proto.graph.output] == ["output"]
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"


def test_seed_cnn_matches_onnxruntime(rng):
    model = nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 5 * 5, 10), nn.Softmax(dim=1),
    )  # fmt: skip
    assert_exports(model, _images(rng, 3), _images(rng, 5))


class SeedLSTM(nn.Module):
    """The text classifier of seed 004: Embedding → LSTM(32) → last step → Linear (softmax in the loss)."""

    def __init__(self, vocab=1000, embed=16, hidden=32, classes=2):
        super().__init__()
        self.embedding = nn.Embedding(vocab, embed)
        self.lstm = nn.LSTM(embed, hidden, batch_first=True)
        self.fc = nn.Linear(hidden, classes)

    def forward(self, tokens):
        _, (h_n, _) = self.lstm(self.embedding(tokens))
        return self.fc(h_n[0])


class LastStepLSTM(SeedLSTM):
    def forward(self, tokens):
        output, _ = self.lstm(self.embedding(tokens))
        return self.fc(output[:, -1, :])


@pytest.mark.parametrize("model_class", [SeedLSTM, LastStepLSTM])
def test_seed_lstm_matches_onnxruntime(model_class, rng):
    assert_exports(model_class(), rng.integers(0, 1000, (3, 20)), rng.integers(0, 1000, (6, 20)))


# ----- layers one by one ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "make, shape",
    [
        (lambda: nn.Sequential(nn.Conv2d(3, 4, 3, stride=2, padding=1, dilation=1), nn.Tanh()), (2, 3, 9, 9)),
        (lambda: nn.Conv2d(4, 6, (3, 2), padding="same", groups=2, bias=False), (2, 4, 7, 8)),
        (lambda: nn.Conv2d(2, 3, 3, padding=1, padding_mode="reflect"), (2, 2, 6, 6)),
        (lambda: nn.Conv2d(2, 3, 3, padding=1, padding_mode="replicate"), (2, 2, 6, 6)),
        (lambda: nn.Conv1d(3, 5, 3, padding=2, dilation=2), (2, 3, 11)),
        (lambda: nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True), (2, 3, 10, 10)),
        (lambda: nn.MaxPool2d(2, dilation=2), (2, 3, 9, 9)),
        (lambda: nn.MaxPool1d(3, stride=2), (2, 3, 11)),
        (lambda: nn.AvgPool2d(2), (2, 3, 8, 8)),
        (lambda: nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False), (2, 3, 9, 9)),
        (lambda: nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True), (2, 3, 10, 10)),
        (lambda: nn.AvgPool1d(2), (2, 3, 8)),
        (lambda: nn.AdaptiveAvgPool2d(1), (2, 3, 7, 7)),
        (lambda: nn.AdaptiveAvgPool2d((3, 2)), (2, 3, 7, 5)),
        (lambda: nn.Sequential(nn.Flatten(), nn.Dropout(0.5), nn.Linear(48, 4)), (2, 3, 4, 4)),
        (lambda: nn.Sequential(nn.Linear(6, 5), nn.BatchNorm1d(5), nn.ReLU()), (3, 6)),
        (lambda: nn.Sequential(nn.Conv2d(2, 4, 3), nn.BatchNorm2d(4), nn.Dropout2d(0.3)), (2, 2, 6, 6)),
        (lambda: nn.BatchNorm2d(3, affine=False), (2, 3, 4, 4)),
        (lambda: nn.LayerNorm(6), (3, 4, 6)),
        (lambda: nn.LayerNorm((4, 6), elementwise_affine=False), (3, 4, 6)),
        (lambda: nn.Linear(6, 3), (2, 5, 6)),
        (lambda: nn.Sequential(nn.Linear(12, 12), nn.Unflatten(1, (3, 4)), nn.Softmax(dim=-1)), (2, 12)),
        (lambda: nn.BatchNorm3d(3), (2, 3, 2, 4, 4)),
    ],
)
def test_layer_matches_onnxruntime(make, shape, rng):
    model = make()
    model.train()
    for _ in range(2):  # move BatchNorm's running statistics off their initial values
        model(shendu.tensor(rng.standard_normal(shape).astype(np.float32)))
    for p in model.parameters():
        p._array[...] = rng.standard_normal(p.shape).astype(np.float32) * 0.5 + (1.0 if p.ndim == 1 else 0.0)
    other = (shape[0] + 2,) + shape[1:]
    assert_exports(model, rng.standard_normal(shape).astype(np.float32), rng.standard_normal(other).astype(np.float32))


@pytest.mark.parametrize(
    "activation",
    [
        nn.ReLU(), nn.Sigmoid(), nn.Tanh(), nn.Softmax(dim=1), nn.Softmax(dim=-1), nn.LogSoftmax(dim=1), nn.Softmin(dim=1),
        nn.LeakyReLU(0.2), nn.PReLU(), nn.PReLU(4), nn.ELU(0.7), nn.SELU(), nn.CELU(1.3), nn.Softplus(),
        nn.Softplus(beta=2.0, threshold=3.0), nn.SiLU(), nn.Swish(beta=0.5), nn.Swish(beta=1.5, trainable=True),
        nn.GELU(), nn.GELU(approximate="tanh"), nn.ReLU6(), nn.Hardtanh(-0.5, 0.5), nn.Mish(), nn.Hardsigmoid(),
        nn.Hardswish(), nn.Tanhshrink(), nn.Softsign(), nn.LogSigmoid(), nn.Softshrink(0.3), nn.Hardshrink(0.3),
        nn.Threshold(0.1, -2.0),
    ],
    ids=lambda m: repr(m),
)
def test_activation_matches_onnxruntime(activation, rng):
    model = nn.Sequential(nn.Linear(5, 4), activation)
    x = rng.standard_normal((3, 5)).astype(np.float32) * 3
    assert_exports(model, x, rng.standard_normal((6, 5)).astype(np.float32) * 3)


@pytest.mark.parametrize(
    "make",
    [
        lambda: nn.LSTM(5, 7),
        lambda: nn.LSTM(5, 7, num_layers=2, batch_first=True, bidirectional=True),
        lambda: nn.GRU(5, 7, batch_first=True),
        lambda: nn.GRU(5, 7, num_layers=2, bidirectional=True),
        lambda: nn.RNN(5, 7, batch_first=True),
        lambda: nn.RNN(5, 7, num_layers=2, nonlinearity="relu"),
    ],
    ids=["lstm", "lstm-2-layer-bi-batch-first", "gru", "gru-2-layer-bi", "rnn", "rnn-relu-2-layer"],
)
def test_recurrent_layers_match_onnxruntime_with_gate_reordering(make, rng):
    class Wrap(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = make()

        def forward(self, x):
            output, state = self.rnn(x)
            h_n = state[0] if isinstance(state, tuple) else state
            return output, h_n

    model = Wrap()
    layout = (3, 6, 5) if model.rnn.batch_first else (6, 3, 5)
    other = (4, 6, 5) if model.rnn.batch_first else (9, 3, 5)  # dim 0 is symbolic: batch, or time when time-major
    assert_exports(model, rng.standard_normal(layout).astype(np.float32), rng.standard_normal(other).astype(np.float32))


def test_lstm_with_initial_state_and_cell_state_output(rng):
    class WithState(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(4, 3, num_layers=2)

        def forward(self, x, h0, c0):
            output, (h_n, c_n) = self.lstm(x, (h0, c0))
            return output, h_n, c_n

    sample = tuple(rng.standard_normal(s).astype(np.float32) for s in [(5, 2, 4), (2, 2, 3), (2, 2, 3)])
    assert_exports(WithState(), sample)


def test_custom_forward_glue_ops_trace(rng):
    class Glue(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Linear(4, 6), nn.Linear(4, 6)

        def forward(self, x):
            h = shendu.cat([self.a(x), self.b(x) * 0.5], dim=1)
            h = h.reshape(x.shape[0], 3, 4).permute(0, 2, 1)
            h = (h - h.mean(dim=2, keepdim=True)).exp().sum(dim=1) / 2.0
            return nn.functional.relu(h[:, None, 1:]).clamp(max=3.0).flatten(1) ** 2

    assert_exports(Glue(), rng.standard_normal((2, 4)).astype(np.float32), rng.standard_normal((5, 4)).astype(np.float32))


def test_float64_model_exports_as_double(rng):
    model = nn.Sequential(nn.Linear(3, 2, dtype=shendu.float64), nn.Tanh())
    proto = assert_exports(model, rng.standard_normal((2, 3)), atol=1e-12)
    assert proto.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.DOUBLE


def test_training_mode_is_restored_after_export(rng):
    model = nn.Sequential(nn.Linear(3, 3), nn.Dropout(0.5), nn.BatchNorm1d(3))
    model.train()
    shendu_onnx.export(model, rng.standard_normal((2, 3)).astype(np.float32))
    assert all(m.training for m in model.modules())
    assert "forward" not in vars(model[0])


# ----- errors ----------------------------------------------------------------------------------------
def test_unsupported_layer_is_named(rng):
    model = nn.Sequential(nn.Linear(3, 4), nn.GroupNorm(2, 4))
    with pytest.raises(shendu_onnx.ExportError, match=r"'1' \(GroupNorm\)"):
        shendu_onnx.export(model, rng.standard_normal((2, 3)).astype(np.float32))


def test_unsupported_op_names_the_op_and_its_layer(rng):
    class Odd(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 3)

        def forward(self, x):
            return shendu.cumsum(self.fc(x), dim=1)

    with pytest.raises(shendu_onnx.ExportError, match=r"CumSum.*'<model>' \(Odd\)"):
        shendu_onnx.export(Odd(), rng.standard_normal((2, 3)).astype(np.float32))


def test_lstm_cell_is_refused_before_tracing(rng):
    class Cell(nn.Module):
        def __init__(self):
            super().__init__()
            self.cell = nn.LSTMCell(3, 4)

        def forward(self, x):
            return self.cell(x)[0]

    with pytest.raises(shendu_onnx.ExportError, match="LSTMCell"):
        shendu_onnx.export(Cell(), rng.standard_normal((2, 3)).astype(np.float32))


def test_non_module_is_a_type_error():
    with pytest.raises(TypeError, match="shendu.nn.Module"):
        shendu_onnx.export(lambda x: x, np.zeros((1, 2), np.float32))


def test_bad_opset_is_refused(rng):
    with pytest.raises(ValueError, match="opset"):
        shendu_onnx.export(nn.Linear(2, 2), rng.standard_normal((2, 2)).astype(np.float32), opset=9)


# ----- the Keras dialect (its layers wrap the same nn layers; glue such as go_backwards' flip traces) ----
def test_keras_seed_models_match_onnxruntime(rng):
    from shendu.keras import Sequential, layers

    cnn = Sequential([
        layers.Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1)), layers.MaxPooling2D((2, 2)),
        layers.Conv2D(64, (3, 3), activation="relu"), layers.MaxPooling2D((2, 2)), layers.Flatten(),
        layers.Dense(10, activation="softmax"),
    ])  # fmt: skip
    assert_exports(cnn, rng.random((3, 28, 28, 1), dtype=np.float32), rng.random((5, 28, 28, 1), dtype=np.float32))
    text = Sequential([layers.Embedding(1000, 16), layers.LSTM(32), layers.Dense(2, activation="softmax")])
    assert_exports(text, rng.integers(0, 1000, (3, 20)), rng.integers(0, 1000, (6, 20)))


def test_keras_backwards_gru_and_simple_rnn(rng):
    from shendu.keras import Sequential, layers

    model = Sequential([layers.Embedding(100, 8), layers.GRU(8, go_backwards=True, return_sequences=True),
                        layers.SimpleRNN(4), layers.Dense(3)])  # fmt: skip
    assert_exports(model, rng.integers(0, 100, (3, 7)), rng.integers(0, 100, (4, 7)))
