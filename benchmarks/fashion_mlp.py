"""The seed MLP (784-500-10, ReLU, cross-entropy, Adam 1e-3, batch 100) on Fashion-MNIST, shendu vs PyTorch.

Both train for the same number of epochs on the full 60,000 training images (pixels / 255),
from the same initial weights (PyTorch's are copied from shendu's) with their own shuffling,
and are scored on the 10,000 test images. Prints each framework's test accuracy and seconds
per epoch. The data are Debian's ``dataset-fashion-mnist`` files
(``apt-get install dataset-fashion-mnist``; ``make`` installs it where apt-get exists).

    python -m benchmarks.fashion_mlp [--epochs 5] [--seed 0] [--threads N] [--json out.json]
"""

import argparse
import json
import os
import time

import numpy as np

from .common import seed_mlp

EPOCHS, BATCH, LR = 5, 100, 1e-3


def load():
    """((x_train, y_train), (x_test, y_test)): float32 (N, 784) in [0, 1] and int64 labels."""
    from shendu.vision.datasets import load_fashion_mnist

    (x_train, y_train), (x_test, y_test) = load_fashion_mnist()
    scale = lambda x: x.reshape(len(x), -1).astype(np.float32) / 255  # noqa: E731
    return (scale(x_train), y_train.astype(np.int64)), (scale(x_test), y_test.astype(np.int64))


def run_shendu(data, epochs, seed):
    """Train with shendu.train.fit; returns (test accuracy, seconds per epoch, initial weights)."""
    import shendu
    from shendu import nn, optim
    from shendu.train import evaluate, fit

    (x_train, y_train), (x_test, y_test) = data
    shendu.manual_seed(seed)
    model = seed_mlp(shendu)
    initial = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    start = time.perf_counter()
    fit(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=LR), (x_train, y_train), epochs=epochs,
        batch_size=BATCH, verbose=0, seed=seed)  # fmt: skip
    seconds = (time.perf_counter() - start) / epochs
    accuracy = evaluate(model, (x_test, y_test), metrics=["accuracy"])["accuracy"]
    return accuracy, seconds, initial


def run_torch(data, epochs, seed, initial):
    """The same recipe as a plain PyTorch loop; returns (test accuracy, seconds per epoch)."""
    import torch

    (x_train, y_train), (x_test, y_test) = data
    torch.manual_seed(seed)
    model = seed_mlp(torch)
    model.load_state_dict({k: torch.from_numpy(v) for k, v in initial.items()})
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    loss_fn = torch.nn.CrossEntropyLoss()
    x, y = torch.from_numpy(x_train), torch.from_numpy(y_train)
    generator = torch.Generator().manual_seed(seed)
    start = time.perf_counter()
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=generator)
        for i in range(0, len(x), BATCH):
            index = order[i : i + BATCH]
            optimizer.zero_grad()
            loss_fn(model(x[index]), y[index]).backward()
            optimizer.step()
    seconds = (time.perf_counter() - start) / epochs
    with torch.no_grad():
        predicted = model(torch.from_numpy(x_test)).argmax(1).numpy()
    return float((predicted == y_test).mean()), seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None, help="BLAS/torch threads (default: all usable CPUs)")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)
    import torch

    threads = args.threads or len(os.sched_getaffinity(0))
    torch.set_num_threads(threads)
    data = load()
    print(f"Fashion-MNIST: {len(data[0][0])} train / {len(data[1][0])} test; 784-500-10 ReLU, Adam {LR}, "
          f"batch {BATCH}, {args.epochs} epochs, {threads} threads")  # fmt: skip
    ours, ours_seconds, initial = run_shendu(data, args.epochs, args.seed)
    print(f"shendu : test accuracy {ours:.2%}  {ours_seconds:.2f} s/epoch")
    theirs, theirs_seconds = run_torch(data, args.epochs, args.seed, initial)
    print(f"PyTorch: test accuracy {theirs:.2%}  {theirs_seconds:.2f} s/epoch")
    print(f"difference {100 * (ours - theirs):+.2f} points; shendu takes {ours_seconds / theirs_seconds:.2f}x "
          "PyTorch's time per epoch")  # fmt: skip
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"epochs": args.epochs, "threads": threads,
                       "shendu": {"accuracy": ours, "seconds_per_epoch": ours_seconds},
                       "pytorch": {"accuracy": theirs, "seconds_per_epoch": theirs_seconds}}, handle, indent=2)  # fmt: skip


if __name__ == "__main__":
    main()
