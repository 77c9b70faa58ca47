"""Model folders and weights files made by an attacker or an accident end in a clear error, fast and small.

Each case runs the loader in a child process limited to 1.5 GB of address space and a deadline:
it must end in shendu's own error class (never a hang, a MemoryError or another exception).
"""

import json
import os
import struct

import numpy as np
import pytest

import shendu
import shendu.nn as nn
from shendu.io import ModelFormatError, SerializationError, load_model, save_model

from .limited import run_limited

OWN_ERRORS = {"ModelFormatError", "SerializationError", "NotARegularFileError", "MetadataError", "FileNotFoundError"}


def _ended_cleanly(result, *messages):
    assert not result.get("hang"), "the loader hung"
    assert "crash" not in result, f"the loader crashed: {result}"
    assert not result["ok"], "a hostile file was accepted"
    assert result["type"] in OWN_ERRORS, f"{result['type']}: {result['message'][:300]}\n{result.get('traceback')}"
    assert len(result["message"]) <= 4000, f"a {len(result['message'])}-character message"
    for message in messages:
        assert message in result["message"], result["message"][:500]


def _load(directory):
    return f"import shendu\nshendu.load_model({str(directory)!r})"


@pytest.fixture
def folder(tmp_path):
    directory = tmp_path / "model"
    save_model(nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2)), directory)
    return directory


def _rewrite_json(path, change):
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


# ----- resource exhaustion -------------------------------------------------------------------------------
def test_a_tiny_config_declaring_a_huge_layer_allocates_nothing(folder):
    def huge(config):
        config["model"]["children"][0][1]["config"] = {"in_features": 200_000, "out_features": 200_000}

    _rewrite_json(folder / "config.json", huge)
    assert (folder / "config.json").stat().st_size < 1000
    _ended_cleanly(run_limited(_load(folder), timeout=60), "config.json")


def test_hundreds_of_large_layers_are_refused_quickly(folder):
    def many(config):
        config["model"]["children"] = [[str(i), {"class_name": "Linear", "config": {"in_features": 4000, "out_features": 4000}}]
                                       for i in range(400)]  # fmt: skip

    _rewrite_json(folder / "config.json", many)
    _ended_cleanly(run_limited(_load(folder), timeout=30))


def test_a_batchnorm_of_a_billion_features_is_refused_before_touching_memory(folder):
    def huge(config):
        config["model"]["children"][1][1] = {"class_name": "BatchNorm1d", "config": {"num_features": 1_000_000_000}}

    _rewrite_json(folder / "config.json", huge)
    _ended_cleanly(run_limited(_load(folder), timeout=60))


def test_a_config_with_too_many_layers_is_refused(folder):
    def many(config):
        config["model"]["children"] = [[str(i), {"class_name": "ReLU"}] for i in range(100_001)]

    _rewrite_json(folder / "config.json", many)
    _ended_cleanly(run_limited(_load(folder), timeout=60), "more than 100,000 layers")


@pytest.mark.parametrize("name", ["config.json", "metadata.json", "model.safetensors"])
def test_a_fifo_in_place_of_a_file_is_refused_without_blocking(folder, name):
    os.unlink(folder / name)
    os.mkfifo(folder / name)
    _ended_cleanly(run_limited(_load(folder), timeout=30), "FIFO")


@pytest.mark.parametrize("name", ["config.json", "metadata.json", "model.safetensors"])
def test_a_symlink_to_a_device_is_refused(folder, name):
    os.unlink(folder / name)
    os.symlink("/dev/zero", folder / name)
    _ended_cleanly(run_limited(_load(folder), timeout=30), "character device")


def test_a_directory_in_place_of_the_weights_is_refused(folder):
    os.unlink(folder / "model.safetensors")
    os.mkdir(folder / "model.safetensors")
    _ended_cleanly(run_limited(_load(folder), timeout=30), "directory")


def test_a_symlink_to_a_regular_file_is_followed(folder, tmp_path):
    os.rename(folder / "model.safetensors", tmp_path / "elsewhere.safetensors")
    os.symlink(tmp_path / "elsewhere.safetensors", folder / "model.safetensors")
    assert isinstance(load_model(folder), nn.Sequential)


def test_shendu_load_refuses_fifos_and_devices(tmp_path):
    os.mkfifo(tmp_path / "pipe")
    os.symlink("/dev/zero", tmp_path / "zero")
    for path in (tmp_path / "pipe", tmp_path / "zero"):
        _ended_cleanly(run_limited(f"import shendu\nshendu.load({str(path)!r})", timeout=30), "not a regular file")


def test_oversized_json_files_are_refused_by_what_is_read(folder):
    with open(folder / "metadata.json", "w") as handle:
        handle.write(" " * (9 * 1024 * 1024) + "{}")
    _ended_cleanly(run_limited(_load(folder), timeout=30), "over the limit")


def test_error_messages_stay_short_whatever_the_input(folder, tmp_path):
    junk = "x" * (15 * 1024 * 1024)
    header = json.dumps({junk: {"dtype": "F32", "shape": [1], "data_offsets": [0, 8]}}).encode()
    (folder / "model.safetensors").write_bytes(struct.pack("<Q", len(header)) + header + b"\0" * 8)
    with pytest.raises(SerializationError) as caught:
        load_model(folder)
    assert len(str(caught.value)) < 4000

    def long_name(config):
        config["model"]["class_name"] = "A" * 1_000_000

    other = save_model(nn.Sequential(nn.Linear(4, 3)), tmp_path / "other")
    _rewrite_json(tmp_path / "other" / "config.json", long_name)
    with pytest.raises(ModelFormatError) as caught:
        load_model(other)
    assert len(str(caught.value)) < 4000


# ----- hostile names and values ---------------------------------------------------------------------------
@pytest.mark.parametrize("child", ["a.b", "", "forward", "__class__", "training", "x y", "-" * 5000])
def test_child_names_that_are_not_identifiers_or_clash_with_attributes_are_refused(folder, child):
    def rename(config):
        config["model"]["children"][0][0] = child

    _rewrite_json(folder / "config.json", rename)
    with pytest.raises(ModelFormatError, match="children\\[0\\] has the name"):
        load_model(folder)


def test_duplicate_child_names_are_refused(folder):
    def duplicate(config):
        config["model"]["children"][1][0] = config["model"]["children"][0][0]

    _rewrite_json(folder / "config.json", duplicate)
    with pytest.raises(ModelFormatError, match="unique"):
        load_model(folder)


def test_constructor_errors_of_any_kind_become_model_format_errors(folder):
    def junk(config):
        config["model"]["children"][0][1]["config"] = {"in_features": [[[]]], "out_features": {"a": 1}}

    _rewrite_json(folder / "config.json", junk)
    with pytest.raises(ModelFormatError, match="cannot build Linear"):
        load_model(folder)


def test_a_keras_config_with_junk_fields_is_a_model_format_error(tmp_path):
    from shendu import keras

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    model.save(tmp_path / "k")

    def junk(config):
        node = config["model"]
        for key in ("config",):
            node[key] = {"layers": "not a list", "name": 7}

    _rewrite_json(tmp_path / "k" / "config.json", junk)
    with pytest.raises(ModelFormatError):
        load_model(tmp_path / "k")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda m: m.__setitem__("extra", [1, 2]), "extra must be an object"),
        (lambda m: m["extra"]["preprocess"].__setitem__("std", 0), "extra.preprocess.std must be a positive finite number"),
        (lambda m: m["extra"]["preprocess"].pop("mean"), "extra.preprocess.mean is missing"),
        (lambda m: m["extra"]["preprocess"].__setitem__("input_shape", [0]), "extra.preprocess.input_shape[0]"),
        (lambda m: m["extra"]["preprocess"].__setitem__("kind", "pickle"), "extra.preprocess.kind"),
        (lambda m: m.__setitem__("input_shape", [-4]), "input_shape"),
        (lambda m: m.__setitem__("class_names", "abc"), "class_names"),
        (lambda m: m.__setitem__("metrics", {"accuracy": "high"}), "metrics.'accuracy'"),
    ],
    ids=["extra-list", "std-zero", "no-mean", "bad-shape", "bad-kind", "input-shape", "class-names", "metric-text"],
)
def test_metadata_values_are_checked_at_load(tmp_path, change, field):
    directory = tmp_path / "m"
    preprocess = {"kind": "image", "height": 2, "width": 2, "mean": 0.1, "std": 0.3, "input_shape": [4], "invert": False}
    save_model(nn.Sequential(nn.Linear(4, 2)), directory, metadata={"preprocess": preprocess})
    _rewrite_json(directory / "metadata.json", change)
    with pytest.raises(ModelFormatError, match=__import__("re").escape(field)):
        load_model(directory, with_metadata=True)


def test_a_text_tokenizer_path_outside_the_folder_is_refused(tmp_path):
    directory = tmp_path / "m"
    save_model(nn.Sequential(nn.Linear(4, 2)), directory, metadata={"preprocess": {"kind": "text", "maxlen": 4, "tokenizer": "../../etc/passwd"}})
    with pytest.raises(ModelFormatError, match="tokenizer must be a file name inside the model folder"):
        load_model(directory, with_metadata=True)


def test_non_finite_metrics_are_stored_as_null_with_a_warning(tmp_path):
    with pytest.warns(RuntimeWarning, match="'loss' is nan; it is stored as null"):
        save_model(nn.Sequential(nn.Linear(4, 2)), tmp_path / "m", metrics={"loss": float("nan"), "accuracy": 0.5})
    _, info = load_model(tmp_path / "m", with_metadata=True)
    assert info["metrics"] == {"loss": None, "accuracy": 0.5}


def test_weights_are_checked_against_the_architecture_before_their_data_is_read(folder):
    # The header declares a matching name but a different shape; the data section is truncated.
    header = json.dumps({"0.weight": {"dtype": "F32", "shape": [5, 4], "data_offsets": [0, 80]}}).encode()
    (folder / "model.safetensors").write_bytes(struct.pack("<Q", len(header)) + header + b"\0" * 80)
    with pytest.raises(ModelFormatError, match="does not fit the architecture"):
        load_model(folder)


def test_loaded_weights_equal_the_saved_ones(tmp_path):
    model = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.Linear(3, 2))
    model(shendu.randn(8, 4))  # running statistics move away from their initial values
    save_model(model, tmp_path / "m")
    loaded = load_model(tmp_path / "m")
    for (name, a), (_, b) in zip(model.state_dict().items(), loaded.state_dict().items()):
        assert np.array_equal(a.numpy(), b.numpy()), name
