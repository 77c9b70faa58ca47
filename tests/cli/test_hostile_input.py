"""Careless and hostile input to the ``shendu`` command: one line naming what was wrong, the right exit code,
no traceback, nothing lost."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from shendu.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SMALL = ["--set", "training.epochs=1", "--set", "data.limit=300", "--set", "data.test_limit=100",
         "--set", "model.layers.0.out_features=16", "--set", "model.layers.2.in_features=16", "--quiet"]  # fmt: skip


def _run(argv, capsys):
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _one_line(err):
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line, got {len(lines)}:\n{err[:2000]}"
    assert "Traceback" not in err
    assert len(lines[0]) < 2500
    return lines[0]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("hostile") / "mlp"
    assert main(["train", *SMALL, "--out", str(out)]) == 0
    return out


def _write(path, text):
    path.write_text(text)
    return str(path)


# ----- settings found before any work ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("argv", "field"),
    [
        (["evaluate", "{model}", "--batch-size", "0"], "--batch-size"),
        (["evaluate", "{model}", "--limit", "-3"], "--limit"),
        (["serve", "{model}", "--port", "70000"], "--port"),
        (["serve", "{model}", "--max-body-bytes", "-1"], "--max-body-bytes"),
        (["serve", "{model}", "--max-batch", "0"], "--max-batch"),
        (["serve", "{model}", "--max-abs-input", "nan"], "--max-abs-input"),
        (["serve", "{model}", "--header-timeout", "0"], "--header-timeout"),
        (["serve", "{model}", "--limit-concurrency", "zero"], "--limit-concurrency"),
        (["export", "{model}", "--opset", "3"], "--opset"),
        (["cv", "--folds", "1"], "--folds"),
    ],
)
def test_bad_numeric_options_exit_2_naming_the_option(trained, argv, field):
    argv = [a.replace("{model}", str(trained)) for a in argv]
    result = subprocess.run([sys.executable, "-m", "shendu.cli", *argv], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert field in result.stderr.splitlines()[-1]


def test_an_unresolvable_host_is_a_usage_error_and_a_busy_port_a_failure(trained):
    import socket

    result = subprocess.run([sys.executable, "-m", "shendu.cli", "serve", str(trained), "--host", "no.such.host.invalid"],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert result.returncode == 2 and "--host" in _one_line(result.stderr)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "shendu.cli", "serve", str(trained), "--port", str(port)],
                                cwd=ROOT, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert result.returncode == 1 and f"cannot listen on 127.0.0.1:{port}" in _one_line(result.stderr)


def test_a_model_larger_than_memory_is_one_line(tmp_path):
    config = _write(tmp_path / "huge.json", json.dumps({
        "name": "huge", "model": {"layers": [{"type": "Linear", "in_features": 784, "out_features": 10**9}, "ReLU",
                                             {"type": "Linear", "in_features": 10**9, "out_features": 10}]}}))  # fmt: skip
    result = subprocess.run([sys.executable, "-m", "shendu.cli", "train", config, "--quiet", "--out", str(tmp_path / "m")],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert result.returncode == 1
    assert "out of memory" in _one_line(result.stderr)


def test_an_early_stopping_monitor_typo_is_a_config_error_before_training(tmp_path, capsys):
    code, out, err = _run(["train", *SMALL, "--out", str(tmp_path / "m"), "--set", "callbacks.early_stopping.monitor=val_acuracy"], capsys)
    assert code == 2
    line = _one_line(err)
    assert "callbacks.early_stopping.monitor" in line and "val_accuracy" in line
    assert not (tmp_path / "m" / "history.csv").exists(), "training started before the monitor was checked"


def test_a_huge_name_is_refused_quickly(tmp_path, capsys):
    config = _write(tmp_path / "c.json", json.dumps({"name": "a" * 3_000_000}))
    code, _, err = _run(["train", config, "--quiet"], capsys)
    assert code == 2
    assert "name" in _one_line(err) and "at most 100" in err
    # A ten-megabyte config is refused by its size, before it is parsed.
    config = _write(tmp_path / "c.json", json.dumps({"name": "a" * 10_000_000}))
    code, _, err = _run(["train", config, "--quiet"], capsys)
    assert code == 2 and "over the limit of 4,194,304 bytes" in _one_line(err)


def test_billion_laughs_yaml_is_refused(tmp_path, capsys):
    pytest.importorskip("yaml")
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for previous, name in zip("abcdefgh", "bcdefghi"):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
    config = _write(tmp_path / "lol.yaml", "\n".join(lines) + "\n")
    assert os.path.getsize(config) < 1000
    code, _, err = _run(["train", config, "--quiet"], capsys)
    assert code == 2 and "expand to more than 100,000" in _one_line(err)


def test_a_recursive_yaml_alias_is_refused(tmp_path, capsys):
    pytest.importorskip("yaml")
    code, _, err = _run(["train", _write(tmp_path / "r.yaml", "model: &m {layers: [*m]}\n"), "--quiet"], capsys)
    assert code == 2 and "recursive" in _one_line(err)


def test_yaml_aliases_of_ordinary_size_still_work(tmp_path, capsys):
    pytest.importorskip("yaml")
    text = "training: &t {epochs: 1, batch_size: 50}\ndata: {limit: 200, test_limit: 50}\n"
    code, out, err = _run(["train", _write(tmp_path / "ok.yaml", text), "--out", str(tmp_path / "m"), "--quiet"], capsys)
    assert code == 0, err


def test_a_fifo_config_is_refused_without_blocking(tmp_path):
    os.mkfifo(tmp_path / "config.yaml")
    result = subprocess.run([sys.executable, "-m", "shendu.cli", "train", str(tmp_path / "config.yaml")], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)  # fmt: skip
    assert result.returncode == 2 and "FIFO" in _one_line(result.stderr)


# ----- data files ---------------------------------------------------------------------------------------
def _csv_config(tmp_path, csv_text, **data):
    path = _write(tmp_path / "table.csv", csv_text)
    config = {"name": "table", "data": {"source": "csv", "path": path, "target": "y", **data},
              "model": {"layers": [{"type": "Linear", "in_features": 2, "out_features": 2}]}, "training": {"epochs": 1}}
    return _write(tmp_path / "c.json", json.dumps(config))


def test_a_csv_cell_over_the_field_limit_is_one_line_naming_the_file_and_line(tmp_path, capsys):
    config = _csv_config(tmp_path, "a,b,y\n1,2,0\n3," + "9" * 200_000 + ",1\n")
    code, _, err = _run(["train", config, "--quiet", "--out", str(tmp_path / "m")], capsys)
    assert code == 2
    line = _one_line(err)
    assert "data.path" in line and "line 3" in line and "field larger than field limit" in line


def test_a_text_cell_in_a_feature_column_is_reported_under_data_path(tmp_path, capsys):
    config = _csv_config(tmp_path, "a,b,y\n1,2,0\n3,four,1\n")
    code, _, err = _run(["train", config, "--quiet", "--out", str(tmp_path / "m")], capsys)
    assert code == 2
    line = _one_line(err)
    assert line.startswith("shendu train: config error: data.path:"), line
    assert "line 3, column 2 ('b')" in line and "'four'" in line


def test_a_missing_target_column_is_reported_under_data_target(tmp_path, capsys):
    config = _csv_config(tmp_path, "a,b,c\n1,2,0\n")
    code, _, err = _run(["train", config, "--quiet", "--out", str(tmp_path / "m")], capsys)
    assert code == 2 and "data.target" in _one_line(err)


# ----- models on disk -------------------------------------------------------------------------------------
def _copy(trained, tmp_path):
    import shutil

    target = tmp_path / "copy"
    shutil.copytree(trained, target)
    return target


def _edit_json(path, change):
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


@pytest.mark.parametrize(
    ("change", "file", "words"),
    [
        (lambda m: m["extra"]["preprocess"].__setitem__("std", 0), "metadata.json", "extra.preprocess.std"),
        (lambda m: m.__setitem__("extra", ["list"]), "metadata.json", "extra must be an object"),
        (lambda m: m["extra"]["preprocess"].pop("mean"), "metadata.json", "extra.preprocess.mean is missing"),
        (lambda c: c["model"]["children"][0].__setitem__(0, "a.b"), "config.json", "has the name 'a.b'"),
        (lambda c: c["model"]["children"][0].__setitem__(0, ""), "config.json", "has the name ''"),
        (lambda c: c["model"]["children"][0].__setitem__(0, "forward"), "config.json", "has the name 'forward'"),
        (lambda c: c["model"]["children"][0].__setitem__(0, "__class__"), "config.json", "__class__"),
    ],
    ids=["std-zero", "extra-list", "no-mean", "dotted-child", "empty-child", "forward-child", "class-child"],
)
@pytest.mark.parametrize("command", ["evaluate", "summary"])
def test_damaged_model_folders_give_one_line_and_exit_1(trained, tmp_path, capsys, change, file, words, command):
    folder = _copy(trained, tmp_path)
    _edit_json(folder / file, change)
    code, out, err = _run([command, str(folder)], capsys)
    assert code == 1
    line = _one_line(err)
    assert words in line, line
    assert "accuracy" not in out


def test_a_nan_test_loss_still_saves_the_model_with_a_warning(tmp_path, capsys):
    # A learning rate this large drives the weights to infinity within one epoch: the test loss is NaN.
    out = tmp_path / "m"
    code, stdout, err = _run(["train", *SMALL, "--out", str(out), "--set", "optimizer.lr=1e30",
                              "--set", "callbacks.terminate_on_nan=false"], capsys)  # fmt: skip
    assert code == 0, err
    assert "warning" in err and "stored as null" in err
    metadata = json.loads((out / "metadata.json").read_text())
    assert metadata["metrics"]["loss"] is None
    assert (out / "model.safetensors").exists()


def test_a_nan_model_is_not_evaluated_into_a_made_up_accuracy(trained, tmp_path, capsys):
    import shendu

    folder = _copy(trained, tmp_path)
    state = shendu.load(folder / "model.safetensors")
    state = {k: shendu.full(v.shape, float("nan")) for k, v in state.items()}
    from shendu.io.serialization import read_metadata

    shendu.save(state, folder / "model.safetensors", metadata={"shendu.save_id": read_metadata(trained / "model.safetensors")["shendu.save_id"]})
    code, out, err = _run(["evaluate", str(folder), "--json"], capsys)
    assert code == 0
    results = json.loads(out.strip().splitlines()[-1])
    assert np.isnan(results["loss"])


def test_a_huge_plot_title_is_cut_and_plots_quickly(tmp_path):
    pytest.importorskip("matplotlib")
    from shendu.train import History

    history = History()
    history.history = {"loss": [1.0, 0.5]}
    history.epoch = [0, 1]
    history.plot(tmp_path / "curves.png", title="x" * 10_000_000)
    assert (tmp_path / "curves.png").stat().st_size > 0
