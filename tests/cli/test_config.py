"""shendu.config: defaults are the seed MLP, packaged configs are valid, --set overrides, and every kind
of mistake is one ConfigError naming the field path and what is allowed."""

import json

import pytest

from shendu import config as cfg


def test_defaults_are_the_seed_mlp_recipe():
    d = cfg.defaults()
    assert d["data"]["source"] == "digits" and d["loss"] == "cross_entropy"
    assert d["model"]["layers"] == cfg.SEED_LAYERS
    assert d["optimizer"] == {"name": "adam", "lr": 0.001}
    assert (d["training"]["epochs"], d["training"]["batch_size"]) == (5, 100)
    model = cfg.build_model(d)
    assert sum(p.numel() for p in model.parameters()) == 784 * 500 + 500 + 500 * 10 + 10


@pytest.mark.parametrize("name", cfg.packaged_configs())
def test_packaged_configs_are_valid(name):
    pytest.importorskip("yaml")
    resolved = cfg.resolve(cfg.load_file(cfg.resolve_config_path(name)))
    assert resolved["name"] == name


def test_packaged_default_yaml_and_json_twins_agree_and_equal_the_defaults():
    pytest.importorskip("yaml")
    yaml_config = cfg.load_file(cfg.resolve_config_path("mnist-mlp.yaml"))
    json_config = cfg.load_file(cfg.resolve_config_path("mnist-mlp.json"))
    assert yaml_config == json_config
    assert cfg.resolve(yaml_config) == cfg.defaults()


def test_seed_003_mlp_has_45360_parameters():
    pytest.importorskip("yaml")
    model = cfg.build_model(cfg.resolve(cfg.load_file(cfg.resolve_config_path("mnist-sigmoid-mlp"))))
    assert sum(p.numel() for p in model.parameters()) == 45_360


@pytest.mark.parametrize(
    "config, path, words",
    [
        ({"training": {"epochs": 0}}, "training.epochs", "integer from 1"),
        ({"training": {"epochs": 2.5}}, "training.epochs", "got the number 2.5"),
        ({"training": {"epoch": 3}}, "training.epoch", "unknown key; allowed here: epochs"),
        ({"trainig": {}}, "trainig", "unknown key"),
        ({"training": {"batch_size": "big"}}, "training.batch_size", "got the text 'big'"),
        ({"training": {"shuffle": "yes"}}, "training.shuffle", "true or false"),
        ({"data": {"source": "imagenet"}}, "data.source", "one of 'digits'"),
        ({"data": {"test_split": 1.5}}, "data.test_split", "< 1"),
        ({"data": {"source": "csv"}}, "data.path", "needs a file"),
        ({"data": {"source": "csv", "path": "/no/such/file.csv"}}, "data.path", "does not exist"),
        ({"data": {"source": "mnist"}}, "data.path", "MNIST/raw"),
        ({"loss": "hinge"}, "loss", "one of 'cross_entropy'"),
        ({"metrics": ["accuracy", "auc"]}, "metrics[1]", "one of"),
        ({"model": {"layers": []}}, "model.layers", "at least 1"),
        ({"model": {"layers": ["Linar"]}}, "model.layers[0].type", "did you mean Linear"),
        ({"model": {"layers": [{"in_features": 3}]}}, "model.layers[0]", "needs a 'type'"),
        ({"model": {"layers": [{"type": "Linear", "in_features": 3, "out_feature": 2}]}}, "model.layers[0].out_feature",
         "allowed: in_features, out_features, bias"),
        ({"model": {"layers": [{"type": "Linear", "in_features": 3}]}}, "model.layers[0]", "needs out_features"),
        ({"model": {"layers": [{"type": "Linear", "in_features": 3, "out_features": 2, "bias": "no"}]}},
         "model.layers[0].bias", "true or false"),
        ({"model": {"layers": [{"type": "Linear", "in_features": -3, "out_features": 2}]}}, "model.layers[0]",
         "in_features must be a positive integer"),
        ({"model": {"layers": ["ReLU"]}}, "model.layers", "no trainable parameters"),
        ({"optimizer": {"name": "adamax"}}, "optimizer.name", "known: sgd, adam"),
        ({"optimizer": {"name": "adam", "lr": -0.1}}, "optimizer.lr", "> 0"),
        ({"optimizer": {"name": "sgd", "lr": 0.1, "nesterov": "yes"}}, "optimizer.nesterov", "true or false"),
        ({"optimizer": {"name": "adam", "beta": 0.9}}, "optimizer.beta", "did you mean betas"),
        ({"schedule": {"name": "step"}}, "schedule", "StepLR needs step_size"),
        ({"schedule": {"name": "sometimes"}}, "schedule.name", "known: step"),
        ({"callbacks": {"early_stopping": {"patience": -1}}}, "callbacks.early_stopping.patience", "integer ≥ 0"),
        ({"search": {"grid": {}}}, "search.grid", "at least one field path"),
        ({"search": {"grid": {"training.epochs": [1, -1]}}}, "search.grid.training.epochs", "value -1 gives an invalid config"),
        ({"name": "../escape"}, "name", "not allowed"),
    ],
)
def test_mistakes_are_one_error_naming_the_field(config, path, words):
    with pytest.raises(cfg.ConfigError) as caught:
        cfg.resolve(config)
    assert caught.value.path == path
    assert words in str(caught.value)
    assert str(caught.value).startswith(f"{path}: ")


def test_early_stopping_true_means_defaults():
    resolved = cfg.resolve({"callbacks": {"early_stopping": True}})
    assert resolved["callbacks"]["early_stopping"]["patience"] == 3


@pytest.mark.parametrize(
    "text, parts, value",
    [
        ("training.epochs=3", ["training", "epochs"], 3),
        ("optimizer.lr=1e-2", ["optimizer", "lr"], 0.01),
        ("model.layers.0.out_features=64", ["model", "layers", "0", "out_features"], 64),
        ("model.layers[1]=Tanh", ["model", "layers", "1"], "Tanh"),
        ("training.shuffle=false", ["training", "shuffle"], False),
        ("metrics=[accuracy, f1]", ["metrics"], ["accuracy", "f1"]),
        ("schedule=null", ["schedule"], None),
    ],
)
def test_set_overrides_parse(text, parts, value):
    pytest.importorskip("yaml")
    assert cfg.parse_override(text) == (parts, value)


@pytest.mark.parametrize("text", ["epochs", "=3", "training..epochs=3", "a-b=1"])
def test_bad_set_syntax_is_a_config_error(text):
    with pytest.raises(cfg.ConfigError, match="--set"):
        cfg.parse_override(text)


def test_overrides_apply_over_defaults_and_file():
    resolved = cfg.resolve(
        {"training": {"epochs": 2}},
        [cfg.parse_override("model.layers.0.out_features=64"), cfg.parse_override("model.layers.2.in_features=64"),
         cfg.parse_override("optimizer.lr=0.01")],
    )  # fmt: skip
    assert resolved["training"] == {**cfg.defaults()["training"], "epochs": 2}
    assert resolved["model"]["layers"][0]["out_features"] == 64
    assert resolved["optimizer"] == {"name": "adam", "lr": 0.01}


def test_a_file_section_merges_with_the_defaults():
    resolved = cfg.resolve({"data": {"layout": "image"}, "optimizer": {"name": "sgd", "lr": 0.1, "momentum": 0.9}})
    assert resolved["data"]["source"] == "digits" and resolved["data"]["layout"] == "image"
    assert resolved["optimizer"] == {"name": "sgd", "lr": 0.1, "momentum": 0.9}


def test_unreadable_files_give_clear_messages(tmp_path):
    with pytest.raises(cfg.ConfigError, match="does not exist"):
        cfg.load_file(tmp_path / "missing.yaml")
    with pytest.raises(cfg.ConfigError, match="is a directory"):
        cfg.load_file(tmp_path)
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(cfg.ConfigError, match="not valid JSON"):
        cfg.load_file(bad)
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(cfg.ConfigError, match="cannot read"):
        cfg.load_file(binary)
    top = tmp_path / "list.json"
    top.write_text(json.dumps([1, 2]))
    with pytest.raises(cfg.ConfigError, match="must hold a mapping"):
        cfg.load_file(top)


def test_invalid_yaml_names_the_file(tmp_path):
    pytest.importorskip("yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("training:\n  epochs: [1\n")
    with pytest.raises(cfg.ConfigError, match="not valid YAML"):
        cfg.load_file(bad)


def test_json_configs_need_no_yaml(tmp_path, monkeypatch):
    monkeypatch.setattr(cfg, "_yaml", lambda: None)
    path = tmp_path / "run.json"
    path.write_text(json.dumps({"training": {"epochs": 1}}))
    assert cfg.resolve(cfg.load_file(path))["training"]["epochs"] == 1
    assert cfg.parse_override("training.epochs=2") == (["training", "epochs"], 2)
    yaml_path = tmp_path / "run.yaml"
    yaml_path.write_text("training: {epochs: 1}\n")
    with pytest.raises(cfg.ConfigError, match=r"needs PyYAML: pip install 'shendu\[config\]'"):
        cfg.load_file(yaml_path)
