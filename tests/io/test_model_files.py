"""save_model / load_model: architecture as plain data from registered classes, weights, metadata, bad dirs."""

import json
import os

import numpy as np
import pytest

import shendu
import shendu.nn as nn
from shendu.io import ModelFormatError, SerializationError, load_metadata, load_model, register_model, save_model


@register_model
class _TwoTower(nn.Module):
    """A user model with plain and module-valued constructor arguments."""

    def __init__(self, in_features, hidden=8, head=None, scale=1.0):
        super().__init__()
        self.body = nn.Linear(in_features, hidden)
        self.head = head if head is not None else nn.Linear(hidden, 2)
        self.scale = scale

    def forward(self, x):
        return self.head(self.body(x).relu()) * self.scale


@register_model(name="tests.ConfigLayer")
class _ConfigLayer(nn.Module):
    """A layer that writes its own config and builds its weights later (the Keras way)."""

    def __init__(self, units):
        super().__init__()
        self.units, self.fc = units, None

    def get_config(self):
        return {"units": self.units}

    def get_build_config(self):
        return None if self.fc is None else {"input_dim": self.fc.in_features}

    def build_from_config(self, config):
        self.fc = nn.Linear(config["input_dim"], self.units)

    def forward(self, x):
        if self.fc is None:
            self.fc = nn.Linear(x.shape[-1], self.units)
        return self.fc(x)


class _Unregistered(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 2)


def _same_weights(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    return list(sa) == list(sb) and all(
        sa[k]._array.dtype == sb[k]._array.dtype and np.array_equal(sa[k]._array, sb[k]._array) for k in sa
    )


def _mlp():
    return nn.Sequential(nn.Linear(784, 50), nn.ReLU(), nn.Linear(50, 10), nn.Softmax(dim=1))


def test_seed_mlp_round_trips_with_identical_outputs_and_metadata(tmp_path):
    model = _mlp()
    x = shendu.randn(4, 784)
    save_model(model, tmp_path / "mlp", metrics={"accuracy": 0.93}, class_names=list("0123456789"))
    assert sorted(os.listdir(tmp_path / "mlp")) == ["config.json", "metadata.json", "model.safetensors"]
    loaded, info = load_model(tmp_path / "mlp", with_metadata=True)
    assert type(loaded) is nn.Sequential and [type(m) for m in loaded] == [type(m) for m in model]
    assert _same_weights(model, loaded)
    assert not loaded.training  # returned ready to predict
    assert np.array_equal(loaded(x).detach().numpy(), model(x).detach().numpy())
    assert info["metrics"] == {"accuracy": 0.93}
    assert info["class_names"] == list("0123456789")
    assert info["input_shape"] == [784]
    assert info["format_version"] == 1 and info["shendu_version"] == shendu.__version__
    assert info["num_parameters"] == 784 * 50 + 50 + 50 * 10 + 10
    assert load_metadata(tmp_path / "mlp") == info


def test_config_records_constructor_arguments_as_plain_data(tmp_path):
    save_model(nn.Sequential(nn.Linear(3, 2, bias=False)), tmp_path / "m")
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    layer = config["model"]["children"][0][1]
    assert layer == {"class_name": "Linear", "config": {"in_features": 3, "out_features": 2, "bias": False}}


def test_nested_containers_and_modules_appended_after_construction(tmp_path):
    inner = nn.ModuleList([nn.Linear(2, 3)])
    inner.append(nn.Linear(3, 3))
    model = nn.Sequential(nn.ModuleDict({"a": nn.Linear(2, 2), "b": inner}))
    model.append(nn.Tanh())
    loaded = load_model(save_model(model, tmp_path / "nested"))
    assert _same_weights(model, loaded)
    assert isinstance(loaded[0]["b"], nn.ModuleList) and len(loaded[0]["b"]) == 2
    assert isinstance(loaded[1], nn.Tanh)


def test_a_registered_user_model_with_a_module_argument_round_trips(tmp_path):
    model = _TwoTower(5, hidden=4, head=nn.Linear(4, 3), scale=0.5)
    loaded = load_model(save_model(model, tmp_path / "user"))
    assert type(loaded) is _TwoTower and loaded.scale == 0.5 and loaded.head.out_features == 3
    x = shendu.randn(2, 5)
    assert np.array_equal(loaded(x).detach().numpy(), model(x).detach().numpy())


def test_get_config_and_lazy_build_config_are_used(tmp_path):
    layer = _ConfigLayer(3)
    layer(shendu.randn(2, 6))  # builds fc lazily
    config = shendu.io.model_to_config(layer)
    assert config["model"]["class_name"] == "tests.ConfigLayer"
    assert config["model"]["build_config"] == {"input_dim": 6}
    loaded = load_model(save_model(layer, tmp_path / "lazy"))
    assert _same_weights(layer, loaded)


def test_frozen_parameters_stay_frozen(tmp_path):
    model = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1))
    model[0].weight.requires_grad_(False)
    loaded = load_model(save_model(model, tmp_path / "frozen"))
    assert [p.requires_grad for p in loaded.parameters()] == [False, True, True, True]


def test_float64_models_keep_their_dtype(tmp_path):
    model = nn.Sequential(nn.Linear(3, 2, dtype=shendu.float64))
    shendu.set_default_dtype(shendu.float64)
    try:
        other = nn.Linear(3, 1)
    finally:
        shendu.set_default_dtype(shendu.float32)
    assert load_model(save_model(model, tmp_path / "f64"))[0].weight.dtype == shendu.float64
    assert load_model(save_model(other, tmp_path / "f64b")).weight.dtype == shendu.float64
    assert nn.Linear(1, 1).weight.dtype == shendu.float32  # the default is restored after loading
    mixed = load_model(save_model(nn.Sequential(nn.Linear(3, 2, dtype=shendu.float64), nn.Linear(2, 2)), tmp_path / "mix"))
    assert [layer.weight.dtype for layer in mixed] == [shendu.float64, shendu.float32]


def test_saving_again_replaces_the_model(tmp_path):
    save_model(nn.Linear(2, 2), tmp_path / "m")
    save_model(nn.Linear(2, 5), tmp_path / "m")
    assert load_model(tmp_path / "m").out_features == 5
    assert not [n for n in os.listdir(tmp_path / "m") if n.endswith(".tmp")]


# ----- what cannot be saved -----------------------------------------------------------------
def test_unregistered_classes_are_refused_with_advice(tmp_path):
    with pytest.raises(TypeError, match="register_model"):
        save_model(_Unregistered(), tmp_path / "u")
    assert not (tmp_path / "u").exists()


def test_constructor_arguments_that_are_not_plain_data_are_refused(tmp_path):
    with pytest.raises(TypeError, match="not plain data"):
        save_model(_TwoTower(2, scale=lambda x: x), tmp_path / "f")


# ----- bad model directories ------------------------------------------------------------------
@pytest.fixture
def saved(tmp_path):
    return save_model(nn.Sequential(nn.Linear(3, 2), nn.ReLU()), tmp_path / "model")


def _edit_config(directory, edit):
    path = os.path.join(directory, "config.json")
    with open(path) as handle:
        config = json.load(handle)
    edit(config)
    with open(path, "w") as handle:
        json.dump(config, handle)


def test_unknown_class_names_are_refused_naming_them(saved):
    _edit_config(saved, lambda c: c["model"]["children"][1][1].update(class_name="os.system"))
    with pytest.raises(ModelFormatError, match=r"unknown class_name 'os\.system'"):
        load_model(saved)


@pytest.mark.parametrize("key", ["module", "registered_name", "function", "py/object", "__class__"])
def test_keys_that_name_modules_or_functions_are_refused(saved, key):
    _edit_config(saved, lambda c: c["model"]["children"][0][1].update({key: "subprocess.Popen"}))
    with pytest.raises(ModelFormatError, match="never import or call"):
        load_model(saved)


def test_code_naming_keys_inside_arguments_are_refused(saved):
    layer = {"in_features": {"module": "os", "function": "system"}, "out_features": 2}
    _edit_config(saved, lambda c: c["model"]["children"][0][1].update(config=layer))
    with pytest.raises(ModelFormatError, match="module"):
        load_model(saved)


def test_unknown_tags_and_top_level_keys_are_refused(saved):
    _edit_config(saved, lambda c: c["model"]["children"][0][1]["config"].update(bias={"__reduce": 1}))
    with pytest.raises(ModelFormatError, match="unknown tag"):
        load_model(saved)
    _edit_config(saved, lambda c: c.update(extras=1))
    with pytest.raises(ModelFormatError, match="unexpected key"):
        load_model(saved)


def test_bad_constructor_arguments_give_a_clear_error(saved):
    _edit_config(saved, lambda c: c["model"]["children"][0][1]["config"].update(out_features=-1))
    with pytest.raises(ModelFormatError, match="cannot build Linear"):
        load_model(saved)


def test_weights_that_do_not_fit_the_architecture(saved):
    _edit_config(saved, lambda c: c["model"]["children"][0][1]["config"].update(out_features=4))
    with pytest.raises(ModelFormatError, match="shape"):
        load_model(saved)


def test_dtype_mismatch_is_refused(saved):
    state = {k: v._array.astype(np.float64) for k, v in load_model(saved).state_dict().items()}
    save_id = shendu.io.read_metadata(os.path.join(saved, "model.safetensors"))["shendu.save_id"]
    shendu.save(state, os.path.join(saved, "model.safetensors"), metadata={"shendu.save_id": save_id})
    with pytest.raises(ModelFormatError, match="dtype float64"):
        load_model(saved)


def test_files_from_different_saves_are_detected(saved, tmp_path):
    other = save_model(nn.Sequential(nn.Linear(3, 2), nn.ReLU()), tmp_path / "other")
    os.replace(os.path.join(other, "model.safetensors"), os.path.join(saved, "model.safetensors"))
    with pytest.raises(ModelFormatError, match="different saves"):
        load_model(saved)


def test_truncated_weights_and_configs(saved):
    weights = os.path.join(saved, "model.safetensors")
    with open(weights, "rb") as handle:
        data = handle.read()
    with open(weights, "wb") as handle:
        handle.write(data[:-5])
    with pytest.raises(SerializationError, match="truncated"):
        load_model(saved)
    config = os.path.join(saved, "config.json")
    with open(config) as handle:
        text = handle.read()
    with open(config, "w") as handle:
        handle.write(text[: len(text) // 2])
    with pytest.raises(ModelFormatError, match="not valid JSON"):
        load_model(saved)


def test_oversized_weight_headers_are_refused(saved):
    with pytest.raises(SerializationError, match="over the limit"):
        load_model(saved, max_header_bytes=32)


def test_missing_files_and_directories(saved, tmp_path):
    with pytest.raises(FileNotFoundError, match="no model directory"):
        load_model(tmp_path / "nowhere")
    os.remove(os.path.join(saved, "config.json"))
    with pytest.raises(FileNotFoundError, match="config.json"):
        load_model(saved)


def test_non_standard_json_and_deep_nesting_are_refused(saved):
    with open(os.path.join(saved, "config.json"), "w") as handle:
        handle.write('{"format": NaN}')
    with pytest.raises(ModelFormatError, match="NaN"):
        load_model(saved)
    with open(os.path.join(saved, "config.json"), "w") as handle:
        handle.write("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ModelFormatError, match="deep"):
        load_model(saved)


def test_newer_format_versions_are_refused(saved):
    _edit_config(saved, lambda c: c.update(format_version=99))
    with pytest.raises(ModelFormatError, match="format_version 99"):
        load_model(saved)


def test_builtin_layers_are_registered():
    names = shendu.io.registered_layers()
    for name in ("Linear", "Sequential", "ModuleList", "ReLU", "Flatten"):
        assert name in names


def test_the_seed_cnn_and_a_recurrent_model_with_pretrained_embeddings_round_trip(tmp_path):
    cnn = nn.Sequential(
        nn.Conv2d(1, 8, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 16, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(400, 10), nn.BatchNorm1d(10), nn.Dropout(0.5),
    )  # fmt: skip
    cnn(shendu.randn(4, 1, 28, 28))  # training-mode call: batch-norm running statistics move
    loaded = load_model(save_model(cnn, tmp_path / "cnn"))
    assert _same_weights(cnn, loaded) and not np.all(loaded[8].running_mean.numpy() == 0)
    x = shendu.randn(3, 1, 28, 28)
    cnn.eval()
    assert np.array_equal(loaded(x).detach().numpy(), cnn(x).detach().numpy())

    text = nn.Sequential(nn.Embedding.from_pretrained(shendu.randn(20, 4), freeze=True),
                         nn.GRU(4, 6, num_layers=2, batch_first=True, bidirectional=True))  # fmt: skip
    loaded = load_model(save_model(text, tmp_path / "text"))
    assert _same_weights(text, loaded) and not loaded[0].weight.requires_grad
    tokens = shendu.tensor([[1, 2, 3], [4, 5, 0]])
    assert np.array_equal(loaded(tokens)[0].detach().numpy(), text(tokens)[0].detach().numpy())
