"""Multiple linear regression with one neuron (seed 000 §4.4.1): trained, saved, reloaded, used to predict.

The neuron has no activation: y = w·x + b, the loss is the mean squared error, and plain
gradient descent over the whole training set finds w and b. Its coefficients are then set beside
the least-squares solution of the same data (the closed-form answer the article mentions:
"最小二乘法效果好, 但是计算量非常大"), which gradient descent should reach.

The data: seed 000 shows 13 inputs (the classic Boston-housing table, since withdrawn from
scikit-learn). The real 13-column table that ships offline here is scikit-learn's wine data
(178 wines, 13 chemical measurements, UCI): the neuron predicts a wine's alcohol content from the
other 12 measurements, so it has 12 inputs — the same model, one input fewer.

As in the seed, the trained model is saved and later loaded to predict without retraining
("保存模型, 下次就直接使用模型来进行预测"): ``shendu.save_model`` writes the architecture and
weights (safetensors), and the standardisation statistics go in its metadata.

Run: ``python -m examples.linear_regression [--epochs N] [--out DIR]`` (needs ``shendu[sklearn]``).
"""

import argparse
import os
import sys
import tempfile

import numpy as np

import shendu
import shendu.nn as nn
import shendu.optim as optim
from shendu import train


def load_wine_regression(seed=0, test_fraction=0.2):
    """Wine: (x_train, y_train), (x_test, y_test), feature names — alcohol against the 12 other columns."""
    try:
        from sklearn.datasets import load_wine
    except ImportError:  # pragma: no cover - the [sklearn] extra is part of [dev]
        raise ImportError("this example needs scikit-learn's wine data: pip install 'shendu[sklearn]'") from None
    data = load_wine()
    table, names = data.data.astype(np.float64), list(data.feature_names)
    target_column = names.index("alcohol")
    x = np.delete(table, target_column, axis=1)
    y = table[:, target_column : target_column + 1]
    order = np.random.default_rng(seed).permutation(len(x))
    n_test = int(round(len(x) * test_fraction))
    test, training = order[:n_test], order[n_test:]
    return (x[training], y[training]), (x[test], y[test]), [n for n in names if n != "alcohol"]


def least_squares(x, y):
    """Closed-form w, b minimising Σ(x·w + b - y)²."""
    design = np.hstack([x, np.ones((len(x), 1))])
    solution, *_ = np.linalg.lstsq(design, y, rcond=None)
    return solution[:-1, 0], float(solution[-1, 0])


def run(epochs=1000, lr=0.1, out_dir=None, seed=0):
    """Train, save, reload and predict. Returns a dict of figures (R², MAE, coefficient gap, paths)."""
    (x_train, y_train), (x_test, y_test), names = load_wine_regression(seed)
    mean, std = x_train.mean(axis=0), x_train.std(axis=0)
    z_train, z_test = (x_train - mean) / std, (x_test - mean) / std

    shendu.manual_seed(seed)
    model = nn.Linear(z_train.shape[1], 1, dtype=shendu.float64)  # one neuron, no activation
    optimizer = optim.SGD(model.parameters(), lr=lr)
    history = train.fit(
        model, nn.MSELoss(), optimizer, (z_train, y_train), epochs=epochs, batch_size=len(z_train), verbose=0, seed=seed
    )

    out_dir = out_dir or tempfile.mkdtemp(prefix="shendu-linreg-")
    path = os.path.join(out_dir, "wine-alcohol-model")
    shendu.save_model(model, path, metadata={"feature_names": names, "mean": mean.tolist(), "std": std.tolist()})

    reloaded, metadata = shendu.load_model(path, with_metadata=True)  # later, elsewhere: no retraining
    stats = metadata["extra"]  # what save_model was given as metadata=
    z = (x_test - np.array(stats["mean"])) / np.array(stats["std"])
    predictions = train.predict(reloaded, z)
    scores = train.evaluate(reloaded, (z, y_test), metrics=["r2", "mae"])

    w_ls, b_ls = least_squares(z_train, y_train)
    w = reloaded.weight.detach().numpy().ravel()
    b = reloaded.bias.item()
    ls_predictions = z_test @ w_ls + b_ls
    return {
        "names": names,
        "weights": w.tolist(),
        "bias": b,
        "least_squares_weights": w_ls.tolist(),
        "least_squares_bias": b_ls,
        "max_coefficient_gap": float(np.max(np.abs(np.append(w - w_ls, b - b_ls)))),
        "train_loss": history.history["loss"][-1],
        "test_r2": scores["r2"],
        "test_mae": scores["mae"],
        "least_squares_test_mae": float(np.mean(np.abs(ls_predictions - y_test[:, 0]))),
        "predictions": predictions[:5, 0].tolist(),
        "truth": y_test[:5, 0].tolist(),
        "path": path,
        "same_as_trained": bool(np.allclose(predictions, train.predict(model, z_test))),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1000, help="full-batch gradient-descent steps (default 1000)")
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--out", default=None, help="directory for the saved model (default: a temporary one)")
    parser.add_argument("--fast", action="store_true", help="300 steps")
    args = parser.parse_args(argv)
    r = run(300 if args.fast else args.epochs, args.lr, args.out)
    print(f"Alcohol content of 178 wines from {len(r['names'])} measurements: one neuron, no activation")
    print(f"{'input':>30}  {'neuron w':>9}  {'least sq.':>9}")
    for name, w, w_ls in zip(r["names"], r["weights"], r["least_squares_weights"]):
        print(f"{name:>30}  {w:9.4f}  {w_ls:9.4f}")
    print(f"{'bias':>30}  {r['bias']:9.4f}  {r['least_squares_bias']:9.4f}")
    print(f"largest gap between the neuron and least squares: {r['max_coefficient_gap']:.2e}")
    print(f"saved to {r['path']}, reloaded: predictions identical to the trained model: {r['same_as_trained']}")
    print(f"test set (reloaded model): R² = {r['test_r2']:.3f}, MAE = {r['test_mae']:.3f} % alcohol "
          f"(least squares: MAE {r['least_squares_test_mae']:.3f})")  # fmt: skip
    pairs = ", ".join(f"{p:.2f}/{t:.2f}" for p, t in zip(r["predictions"], r["truth"]))
    print(f"first predictions/truth: {pairs}")
    return r


if __name__ == "__main__":
    main(sys.argv[1:])
