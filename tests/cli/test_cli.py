"""The ``shendu`` command end to end (in-process through ``main(argv)``, and once as ``python -m shendu.cli``):
train writes every file, evaluate/predict/summary/export read them back, cv and search run, explain is
wired, and config or file mistakes exit 2 with one line and no traceback, before any work."""

import csv
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import shendu
from shendu.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SMALL = ["--set", "training.epochs=2", "--set", "data.limit=600", "--set", "data.test_limit=200",
         "--set", "model.layers.0.out_features=32", "--set", "model.layers.2.in_features=32",
         "--set", "optimizer.lr=0.005", "--quiet"]  # fmt: skip


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "mlp"
    assert main(["train", *SMALL, "--out", str(out)]) == 0
    return out


def _run(argv, capsys):
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# ----- train ---------------------------------------------------------------------------------------
def test_train_writes_model_history_curves_and_resolved_config(trained):
    for name in ("config.json", "model.safetensors", "metadata.json", "history.csv", "train-config.json", "curves.png"):
        assert (trained / name).stat().st_size > 0, name
    with open(trained / "history.csv", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][:3] == ["epoch", "loss", "accuracy"] and len(rows) == 3
    resolved = json.loads((trained / "train-config.json").read_text())
    assert resolved["training"]["epochs"] == 2 and resolved["model"]["layers"][0]["out_features"] == 32
    metadata = json.loads((trained / "metadata.json").read_text())
    assert metadata["input_shape"] == [784] and metadata["class_names"] == [str(i) for i in range(10)]
    assert 0.5 < metadata["metrics"]["accuracy"] <= 1.0
    assert metadata["extra"]["preprocess"]["kind"] == "image"
    assert shendu.load_model(trained)(shendu.zeros(1, 784)).shape == (1, 10)


def test_train_prints_the_accuracy(tmp_path, capsys):
    code, out, _ = _run(["train", *SMALL, "--set", "training.epochs=1", "--out", str(tmp_path / "m")], capsys)
    assert code == 0
    assert "accuracy: " in out and "%" in out and f"saved to {tmp_path / 'm'}" in out


def test_python_dash_m_runs_the_command(tmp_path):
    result = subprocess.run([sys.executable, "-m", "shendu.cli", "train", *SMALL, "--set", "training.epochs=1",
                             "--set", "data.limit=100", "--set", "data.test_limit=50", "--out", str(tmp_path / "m")],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "accuracy:" in result.stdout
    version = subprocess.run([sys.executable, "-m", "shendu.cli", "--version"], cwd=ROOT, capture_output=True, text=True)
    assert version.stdout.strip() == f"shendu {shendu.__version__}"


@pytest.mark.parametrize(
    "argv, words",
    [
        (["--set", "training.epochs=-1"], "training.epochs: expected an integer from 1"),
        (["--set", "training.epohcs=3"], "training.epohcs: unknown key; allowed here: epochs"),
        (["--set", "optimizer.lr=fast"], "optimizer.lr: expected a number; got the text 'fast'"),
        (["--set", "model.layers.0.type=Dense"], "model.layers[0].type: unknown layer 'Dense'"),
        (["--set", "epochs"], "--set expects key=value"),
        (["/no/such/config.yaml"], "does not exist"),
    ],
)
def test_config_mistakes_exit_2_with_one_line_before_any_work(argv, words, tmp_path, capsys):
    out = tmp_path / "never"
    code, stdout, err = _run(["train", *argv, "--out", str(out)], capsys)
    assert code == 2
    assert words in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not out.exists() and "training" not in stdout


def test_invalid_config_file_exits_2(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('{"training": {"epochs": 3,}}')
    code, _, err = _run(["train", str(bad)], capsys)
    assert code == 2 and "not valid JSON" in err and "Traceback" not in err


def test_unknown_option_exits_2(capsys):
    code = None
    with pytest.raises(SystemExit) as caught:
        main(["train", "--epochs", "3"])
    code = caught.value.code
    assert code == 2 and "unrecognized arguments" in capsys.readouterr().err


def test_keras_dialect_trains_a_dense_model(tmp_path, capsys):
    config = tmp_path / "keras.json"
    config.write_text(json.dumps({"dialect": "keras", "model": {"layers": [{"type": "Dense", "units": 10, "activation": "softmax"}]},
                                  "loss": "sparse_categorical_crossentropy", "training": {"epochs": 1},
                                  "data": {"limit": 300, "test_limit": 100}}))  # fmt: skip
    code, out, err = _run(["train", str(config), "--out", str(tmp_path / "k"), "--quiet"], capsys)
    assert code == 0, err
    assert "accuracy: " in out
    model = shendu.load_model(tmp_path / "k")
    assert type(model).__name__ == "Sequential" and type(model).__module__.startswith("shendu.keras")


def test_a_model_that_does_not_take_the_data_is_a_config_error(tmp_path, capsys):
    code, _, err = _run(["train", "--set", "model.layers.0.in_features=100", "--set", "data.limit=200",
                         "--out", str(tmp_path / "m")], capsys)  # fmt: skip
    assert code == 2
    assert err.count("\n") == 1 and "model.layers: the model does not take the data's samples of shape [784]" in err
    assert not (tmp_path / "m" / "model.safetensors").exists()


# ----- evaluate, predict, summary, export -------------------------------------------------------------
def test_evaluate_reproduces_the_saved_accuracy(trained, capsys):
    code, out, _ = _run(["evaluate", str(trained), "--limit", "200", "--json"], capsys)
    assert code == 0
    results = json.loads(out.strip().splitlines()[-1])
    saved = json.loads((trained / "metadata.json").read_text())["metrics"]
    assert results["accuracy"] == pytest.approx(saved["accuracy"])


def test_evaluate_on_another_source_checks_it_exists(trained, capsys):
    code, _, err = _run(["evaluate", str(trained), "--data", "mnist", "--data-path", "/no/such/folder"], capsys)
    assert code == 2 and "data.path" in err


def test_predict_npy_png_and_csv_inputs(trained, tmp_path, capsys):
    from PIL import Image

    _, (x_test, y_test) = shendu.vision.datasets.load_digits()
    np.save(tmp_path / "digits.npy", x_test[:4])
    Image.fromarray(255 - x_test[0]).save(tmp_path / "paper.png")  # dark ink on white paper
    np.savetxt(tmp_path / "rows.csv", x_test[:2].reshape(2, -1), delimiter=",", fmt="%d")
    output = tmp_path / "predictions.csv"
    code, out, _ = _run(["predict", str(trained), str(tmp_path / "digits.npy"), str(tmp_path / "paper.png"),
                         str(tmp_path / "rows.csv"), "-o", str(output)], capsys)  # fmt: skip
    assert code == 0
    with open(output, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 7
    predicted = [int(r["prediction"]) for r in rows]
    assert predicted[4] == predicted[0] == predicted[5]  # the same digit as .npy, as an inverted PNG and as a CSV row
    assert predicted[:4] == [int(v) for v in _model_predictions(trained, x_test[:4])]
    assert abs(sum(float(rows[0][f"p_{c}"]) for c in range(10)) - 1) < 1e-6
    assert "digits.npy[0]: " in out


def _model_predictions(folder, images):
    model = shendu.load_model(folder)
    return model(shendu.tensor(images.reshape(len(images), -1).astype(np.float32) / 255)).detach().numpy().argmax(axis=1)


def test_predict_refuses_inputs_that_do_not_fit(trained, tmp_path, capsys):
    np.save(tmp_path / "odd.npy", np.zeros((2, 30)))
    code, _, err = _run(["predict", str(trained), str(tmp_path / "odd.npy")], capsys)
    assert code == 1 and "28×28" in err
    code, _, err = _run(["predict", str(trained), str(tmp_path / "missing.npy")], capsys)
    assert code == 2 and "no such file" in err


def test_summary_lists_layers_and_parameters(trained, capsys):
    code, out, _ = _run(["summary", str(trained)], capsys)
    assert code == 0
    assert "Linear" in out and "25,450" in out.replace("25450", "25,450")  # 784·32+32 + 32·10+10
    assert "metrics:" in out and "classes (10)" in out


def test_missing_model_folder_exits_2(tmp_path, capsys):
    for command in ("summary", "evaluate", "serve", "export"):
        code, _, err = _run([command, str(tmp_path / "nothing")], capsys)
        assert code == 2 and "no such model folder" in err


def test_export_onnx_matches_shendu(trained, capsys):
    pytest.importorskip("onnxruntime")
    code, out, _ = _run(["export", str(trained), "--format", "onnx"], capsys)
    assert code == 0
    assert (trained / "model.onnx").stat().st_size > 0
    difference = float(out.split("= ")[-1].split(" ")[0])
    assert difference <= 1e-5


def test_explain_runs_seed_001s_worked_example(capsys):
    code, out, _ = _run(["explain"], capsys)
    assert code == 0
    assert "0.298371109" in out  # the total error of the worked example


# ----- cv and search ---------------------------------------------------------------------------------
def test_cv_reports_mean_and_std(tmp_path, capsys):
    code, out, _ = _run(["cv", *SMALL[:-1], "--set", "training.epochs=1", "--set", "data.limit=300", "--folds", "2",
                         "--out", str(tmp_path)], capsys)  # fmt: skip
    assert code == 0
    assert "accuracy: " in out and "± " in out and "(2 folds)" in out
    assert len(json.loads((tmp_path / "cv-results.json").read_text())["folds"]) == 2


def test_search_ranks_the_grid(tmp_path, capsys):
    config = tmp_path / "search.json"
    config.write_text(json.dumps({
        "data": {"limit": 300},
        "model": {"layers": [{"type": "Linear", "in_features": 784, "out_features": 16}, "ReLU",
                             {"type": "Linear", "in_features": 16, "out_features": 10}]},
        "training": {"epochs": 1},
        "search": {"grid": {"optimizer.lr": [0.001, 0.01], "model.layers.1": ["ReLU", "Tanh"]}, "folds": 2},
    }))  # fmt: skip
    code, out, _ = _run(["search", str(config), "--out", str(tmp_path)], capsys)
    assert code == 0
    assert "4 combinations × 2 folds" in out and "best: " in out
    results = json.loads((tmp_path / "search-results.json").read_text())
    scores = [r["mean"]["accuracy"] for r in results["results"]]
    assert len(scores) == 4 and scores == sorted(scores, reverse=True)


def test_search_without_a_grid_exits_2(tmp_path, capsys):
    config = tmp_path / "plain.json"
    config.write_text("{}")
    code, _, err = _run(["search", str(config)], capsys)
    assert code == 2 and "no search section" in err


# ----- csv and text sources -----------------------------------------------------------------------------
def test_csv_classification_train_and_predict(tmp_path, capsys):
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(0, 1, (60, 3)), rng.normal(4, 1, (60, 3))]) * [1, 100, 0.01]
    y = np.repeat([0, 1], 60)
    with open(tmp_path / "blobs.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["a", "b", "c", "kind"])
        writer.writerows([[*row, label] for row, label in zip(x.round(5), y)])
    config = tmp_path / "csv.json"
    config.write_text(json.dumps({
        "data": {"source": "csv", "path": str(tmp_path / "blobs.csv"), "target": "kind", "normalize": "standardize"},
        "model": {"layers": [{"type": "Linear", "in_features": 3, "out_features": 8}, "ReLU",
                             {"type": "Linear", "in_features": 8, "out_features": 2}]},
        "training": {"epochs": 20, "batch_size": 16}, "optimizer": {"name": "adam", "lr": 0.01},
    }))  # fmt: skip
    code, out, _ = _run(["train", str(config), "--out", str(tmp_path / "m"), "--quiet"], capsys)
    assert code == 0
    metadata = json.loads((tmp_path / "m" / "metadata.json").read_text())
    assert metadata["metrics"]["accuracy"] >= 0.9 and metadata["class_names"] == ["0", "1"]
    np.savetxt(tmp_path / "new.csv", [[0, 0, 0], [4, 400, 0.04]], delimiter=",", header="a,b,c", comments="")
    code, out, _ = _run(["predict", str(tmp_path / "m"), str(tmp_path / "new.csv")], capsys)
    assert code == 0 and [line.split(": ")[1][0] for line in out.strip().splitlines()] == ["0", "1"]
    code, out, _ = _run(["evaluate", str(tmp_path / "m"), "--json"], capsys)  # the saved scaling, the same test rows
    assert code == 0 and json.loads(out.strip().splitlines()[-1])["accuracy"] == pytest.approx(metadata["metrics"]["accuracy"])


def test_csv_regression(tmp_path, capsys):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(200, 2))
    y = 3 * x[:, 0] - 2 * x[:, 1] + 0.5
    np.savetxt(tmp_path / "line.csv", np.column_stack([x, y]), delimiter=",", header="x1,x2,y", comments="")
    config = tmp_path / "reg.json"
    config.write_text(json.dumps({
        "data": {"source": "csv", "path": str(tmp_path / "line.csv"), "normalize": "none"}, "loss": "mse",
        "metrics": ["mae", "r2"], "model": {"layers": [{"type": "Linear", "in_features": 2, "out_features": 1}]},
        "training": {"epochs": 60, "batch_size": 20}, "optimizer": {"name": "adam", "lr": 0.05},
    }))  # fmt: skip
    code, out, _ = _run(["train", str(config), "--out", str(tmp_path / "m"), "--quiet"], capsys)
    assert code == 0
    assert json.loads((tmp_path / "m" / "metadata.json").read_text())["metrics"]["r2"] > 0.95


def test_text_source_with_tokenizer(tmp_path, capsys):
    rows = [("the cat sat on the mat", "cats"), ("a cat and a kitten", "cats"), ("dogs bark at the cat", "dogs"),
            ("the dog chased a ball", "dogs"), ("my kitten purrs", "cats"), ("a dog and a puppy", "dogs")] * 8  # fmt: skip
    with open(tmp_path / "pets.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows(rows)
    config = tmp_path / "text.json"
    config.write_text(json.dumps({
        "data": {"source": "text", "path": str(tmp_path / "pets.csv"), "num_words": 50, "maxlen": 6},
        "model": {"layers": [{"type": "Embedding", "num_embeddings": 50, "embedding_dim": 4}, "Flatten",
                             {"type": "Linear", "in_features": 24, "out_features": 2}]},
        "training": {"epochs": 30, "batch_size": 8}, "optimizer": {"name": "adam", "lr": 0.05},
    }))  # fmt: skip
    code, _, err = _run(["train", str(config), "--out", str(tmp_path / "m"), "--quiet"], capsys)
    assert code == 0, err
    assert (tmp_path / "m" / "tokenizer.json").exists()
    (tmp_path / "new.txt").write_text("a dog and a puppy\nmy kitten purrs\n")
    code, out, _ = _run(["predict", str(tmp_path / "m"), str(tmp_path / "new.txt")], capsys)
    assert code == 0
    assert [line.split(": ")[1].split()[0] for line in out.strip().splitlines()] == ["dogs", "cats"]


def test_keras_text_lstm_trains_serves_and_exports(tmp_path, capsys):
    rows = [("the cat sat on the mat", "cats"), ("a dog and a puppy", "dogs")] * 20
    with open(tmp_path / "pets.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows(rows)
    config = tmp_path / "lstm.json"
    config.write_text(json.dumps({
        "dialect": "keras",
        "data": {"source": "text", "path": str(tmp_path / "pets.csv"), "num_words": 30, "maxlen": 8},
        "model": {"layers": [{"type": "Embedding", "input_dim": 30, "output_dim": 8}, {"type": "LSTM", "units": 8},
                             {"type": "Dense", "units": 2, "activation": "softmax"}]},
        "loss": "sparse_categorical_crossentropy", "training": {"epochs": 15, "batch_size": 8},
        "optimizer": {"name": "adam", "lr": 0.02},
    }))  # fmt: skip
    code, _, err = _run(["train", str(config), "--out", str(tmp_path / "m"), "--quiet"], capsys)
    assert code == 0, err
    (tmp_path / "new.txt").write_text("a dog and a puppy\nthe cat sat on the mat\n")
    code, out, _ = _run(["predict", str(tmp_path / "m"), str(tmp_path / "new.txt")], capsys)
    assert code == 0
    assert [line.split(": ")[1].split()[0] for line in out.strip().splitlines()] == ["dogs", "cats"]
    pytest.importorskip("onnxruntime")
    code, out, _ = _run(["export", str(tmp_path / "m")], capsys)
    assert code == 0 and "onnxruntime check" in out


def test_failures_while_working_exit_1_with_one_line(tmp_path, trained, capsys):
    code, _, err = _run(["train", "--set", "data.limit=200", "--set", "data.validation=split",
                         "--set", "data.validation_split=0.999", "--quiet", "--out", str(tmp_path / "m")], capsys)  # fmt: skip
    assert code == 1 and "validation_split" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    broken = tmp_path / "broken"
    broken.mkdir()
    for name in ("config.json", "metadata.json"):
        (broken / name).write_bytes((trained / name).read_bytes())
    (broken / "model.safetensors").write_bytes((trained / "model.safetensors").read_bytes()[:100])
    code, _, err = _run(["summary", str(broken)], capsys)
    assert code == 1 and "cannot load the model" in err and "Traceback" not in err


def test_mnist_idx_source_reads_a_root_folder(tmp_path, capsys):
    from shendu.vision.idx import write_idx

    (x_train, y_train), (x_test, y_test) = shendu.vision.datasets.load_digits()
    raw = tmp_path / "data" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for stem, array in (("train-images-idx3-ubyte", x_train[:300]), ("train-labels-idx1-ubyte", y_train[:300].astype(np.uint8)),
                        ("t10k-images-idx3-ubyte", x_test[:100]), ("t10k-labels-idx1-ubyte", y_test[:100].astype(np.uint8))):  # fmt: skip
        write_idx(raw / f"{stem}.gz", array)
    code, out, err = _run(["train", *SMALL, "--set", "data.source=mnist", "--set", f"data.path={tmp_path / 'data'}",
                           "--set", "training.epochs=1", "--out", str(tmp_path / "m")], capsys)  # fmt: skip
    assert code == 0, err
    assert "300 training and 100 test samples" in out


def test_fashion_mnist_from_the_debian_package(tmp_path, capsys):
    if not os.path.isdir("/usr/share/datasets/fashion-mnist"):
        pytest.skip("Debian's dataset-fashion-mnist is not installed (the Makefile installs it)")
    code, out, err = _run(["train", "fashion-mlp", *SMALL, "--set", "training.epochs=1", "--out", str(tmp_path / "f")], capsys)
    assert code == 0, err
    assert "fashion-mnist: 600 training and 200 test samples" in out
    assert json.loads((tmp_path / "f" / "metadata.json").read_text())["class_names"][0] == "T-shirt/top"
