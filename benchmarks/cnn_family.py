"""W7: a family of ordinary CNNs, shendu against PyTorch, in one process, alternating (issue 16).

Each network is written once against the PyTorch API and built in both frameworks (``lib`` is
``shendu`` or ``torch``); PyTorch's initial weights are copied into shendu, both see the same
batches, and the training steps of the two take turns in rounds (the order reversed every round).

- ``lenet5``: LeNet-5 (LeCun et al. 1998) with tanh and average pooling on 32×32 digits, SGD+momentum, batch 64;
- ``digits_bn``: 5×5 convolutions with padding 2, BatchNorm2d after each, max-pooling, Adam, batch 100;
- ``resnet20``: He et al. 2016's CIFAR ResNet-20 (3 stages of 3 basic blocks, 16/32/64 channels, stride-2
  downsampling with 1×1 shortcuts), SGD+momentum, batch 128;
- ``vgg``: a VGG-style stack of 3×3 convolutions (32-32-M-64-64-M-128-128-M) with BatchNorm and dropout, Adam, batch 64;
- ``separable``: depthwise-separable blocks (``groups=in_channels`` 3×3, then 1×1), as in MobileNet, Adam, batch 64;
- ``dcgan``: a DCGAN generator (``ConvTranspose2d``, 100 → 1×32×32) and discriminator (LeakyReLU, BatchNorm),
  one discriminator and one generator update per step, Adam(2e-4, β₁=0.5), batch 64;
- ``resnet18_infer``: torchvision's resnet18 at 224×224 under ``no_grad``, eval mode, batch 1 and 16.

Data: the embedded MNIST digits (8,000); for 3×32×32 inputs they are padded to 32×32 and repeated to
three channels (Fashion-MNIST is not needed to time a step). Reported: median ms per step over the
rounds, and shendu / PyTorch.

Run: ``python -m benchmarks.cnn_family [--only resnet20,vgg] [--threads 2] [--rounds 5] [--steps 4] [--json out.json]``.
"""

import argparse
import json
import statistics
import sys

import numpy as np

from . import common
from .common import copy_state, interleave, machine_info, set_threads
from .workloads import digit_images


# ----- the networks (PyTorch API, so one definition serves both frameworks) -------------------------------
def lenet5(lib):
    nn = lib.nn
    return nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.Tanh(), nn.AvgPool2d(2), nn.Conv2d(6, 16, 5), nn.Tanh(), nn.AvgPool2d(2),
        nn.Flatten(), nn.Linear(400, 120), nn.Tanh(), nn.Linear(120, 84), nn.Tanh(), nn.Linear(84, 10),
    )  # fmt: skip


def digits_bn(lib):
    nn = lib.nn
    return nn.Sequential(
        nn.Conv2d(1, 32, 5, padding=2), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 5, padding=2), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 7 * 7, 10),
    )  # fmt: skip


def resnet20(lib):
    nn = lib.nn

    class BasicBlock(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.shortcut = nn.Sequential()
            if stride != 1 or cin != cout:
                self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))
            self.relu = nn.ReLU()

        def forward(self, x):
            out = self.relu(self.bn1(self.conv1(x)))
            return self.relu(self.bn2(self.conv2(out)) + self.shortcut(x))

    layers = [nn.Conv2d(3, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU()]
    cin = 16
    for cout, stride in ((16, 1), (32, 2), (64, 2)):
        for block in range(3):
            layers.append(BasicBlock(cin, cout, stride if block == 0 else 1))
            cin = cout
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10)]
    return nn.Sequential(*layers)


def vgg(lib):
    nn = lib.nn
    layers, cin = [], 3
    for width in (32, 32, "M", 64, 64, "M", 128, 128, "M"):
        if width == "M":
            layers.append(nn.MaxPool2d(2))
            continue
        layers += [nn.Conv2d(cin, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU()]
        cin = width
    layers += [nn.Flatten(), nn.Dropout(0.5), nn.Linear(128 * 4 * 4, 256), nn.ReLU(), nn.Dropout(0.5), nn.Linear(256, 10)]
    return nn.Sequential(*layers)


def separable(lib):
    nn = lib.nn

    def block(cin, cout, stride):
        return [nn.Conv2d(cin, cin, 3, stride=stride, padding=1, groups=cin, bias=False), nn.BatchNorm2d(cin), nn.ReLU(),
                nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]  # fmt: skip

    layers = [nn.Conv2d(3, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU()]
    for cin, cout, stride in ((32, 64, 1), (64, 128, 2), (128, 128, 1), (128, 256, 2)):
        layers += block(cin, cout, stride)
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(256, 10)]
    return nn.Sequential(*layers)


def dcgan_generator(lib):
    nn = lib.nn
    return nn.Sequential(
        nn.ConvTranspose2d(100, 256, 4, 1, 0, bias=False), nn.BatchNorm2d(256), nn.ReLU(),
        nn.ConvTranspose2d(256, 128, 4, 2, 1, bias=False), nn.BatchNorm2d(128), nn.ReLU(),
        nn.ConvTranspose2d(128, 64, 4, 2, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
        nn.ConvTranspose2d(64, 1, 4, 2, 1, bias=False), nn.Tanh(),
    )  # fmt: skip


def dcgan_discriminator(lib):
    nn = lib.nn
    return nn.Sequential(
        nn.Conv2d(1, 64, 4, 2, 1, bias=False), nn.LeakyReLU(0.2),
        nn.Conv2d(64, 128, 4, 2, 1, bias=False), nn.BatchNorm2d(128), nn.LeakyReLU(0.2),
        nn.Conv2d(128, 256, 4, 2, 1, bias=False), nn.BatchNorm2d(256), nn.LeakyReLU(0.2),
        nn.Conv2d(256, 1, 4, 1, 0, bias=False), nn.Flatten(),
    )  # fmt: skip


NETWORKS = {
    # name: (builder, input kind, batch, optimiser)
    "lenet5": (lenet5, "digits32", 64, "sgd"),
    "digits_bn": (digits_bn, "digits28", 100, "adam"),
    "resnet20": (resnet20, "rgb32", 128, "sgd"),
    "vgg": (vgg, "rgb32", 64, "adam"),
    "separable": (separable, "rgb32", 64, "adam"),
}


# ----- data ---------------------------------------------------------------------------------------
def images(kind):
    (x, y), _ = digit_images()
    if kind == "digits28":
        return x, y
    x = np.pad(x, ((0, 0), (0, 0), (2, 2), (2, 2)))
    if kind == "rgb32":
        x = np.ascontiguousarray(np.repeat(x, 3, axis=1))
    return x, y


def _tensor(lib, array):
    return lib.from_numpy(np.ascontiguousarray(array))


def _optimizer(lib, params, kind):
    if kind == "sgd":
        return lib.optim.SGD(params, lr=0.01, momentum=0.9)
    return lib.optim.Adam(params, lr=1e-3)


# ----- one training step per next() -------------------------------------------------------------------
def classifier_steps(lib, model, optimizer_kind, x, y, batch, seed=0):
    """The PyTorch-dialect loop (zero_grad, forward, cross-entropy, backward, step) over shuffled batches."""
    optimizer = _optimizer(lib, model.parameters(), optimizer_kind)
    loss_fn = lib.nn.CrossEntropyLoss()
    rng = np.random.default_rng(seed)
    model.train()
    while True:
        order = rng.permutation(len(x))
        for start in range(0, len(x) - batch + 1, batch):
            index = order[start : start + batch]
            inputs, targets = _tensor(lib, x[index]), _tensor(lib, y[index])
            optimizer.zero_grad()
            loss_fn(model(inputs), targets).backward()
            optimizer.step()
            yield


def gan_steps(lib, generator, discriminator, x, batch, seed=0):
    """One discriminator update (real + fake) and one generator update per step, BCE with logits."""
    opt_d = lib.optim.Adam(discriminator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_g = lib.optim.Adam(generator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    loss_fn = lib.nn.BCEWithLogitsLoss()
    rng = np.random.default_rng(seed)
    ones, zeros = _tensor(lib, np.ones((batch, 1), np.float32)), _tensor(lib, np.zeros((batch, 1), np.float32))
    generator.train()
    discriminator.train()
    while True:
        index = rng.integers(0, len(x), batch)
        real = _tensor(lib, x[index] * 2 - 1)
        noise = _tensor(lib, rng.standard_normal((batch, 100, 1, 1)).astype(np.float32))
        fake = generator(noise)
        opt_d.zero_grad()
        loss_d = loss_fn(discriminator(real), ones) + loss_fn(discriminator(fake.detach()), zeros)
        loss_d.backward()
        opt_d.step()
        opt_g.zero_grad()
        loss_fn(discriminator(fake), ones).backward()
        opt_g.step()
        yield


def inference_steps(lib, model, x):
    model.eval()
    inputs = _tensor(lib, x)
    while True:
        with lib.no_grad():
            model(inputs)
        yield


# ----- running --------------------------------------------------------------------------------------
def _pair(builder):
    import torch

    import shendu

    torch.manual_seed(0)
    theirs = builder(torch)
    ours = builder(shendu)
    copy_state(theirs, ours)
    return ours, theirs


def runners_for(name):
    """({"shendu": iterator, "torch": iterator}, what one step is)."""
    import torch

    import shendu

    if name == "dcgan":
        generators, discriminators = _pair(dcgan_generator), _pair(dcgan_discriminator)
        x, _ = images("digits32")
        return ({"shendu": gan_steps(shendu, generators[0], discriminators[0], x, 64),
                 "torch": gan_steps(torch, generators[1], discriminators[1], x, 64)},
                "D + G update, batch 64")  # fmt: skip
    if name.startswith("resnet18_infer"):
        batch = int(name.rsplit("_b", 1)[1])
        # NOTE: the PyPI torchvision wheel is built for another torch variant than the local CPU wheel; its models
        # are plain Python and do not need the compiled operators whose registration fails, so skip that module.
        import types

        sys.modules.setdefault("torchvision._meta_registrations", types.ModuleType("torchvision._meta_registrations"))
        from torchvision.models import resnet18 as torch_resnet18

        from shendu.vision.models import resnet18

        torch.manual_seed(0)
        theirs = torch_resnet18()
        ours = resnet18()
        copy_state(theirs, ours)
        x = np.random.default_rng(0).standard_normal((batch, 3, 224, 224)).astype(np.float32)
        return ({"shendu": inference_steps(shendu, ours, x), "torch": inference_steps(torch, theirs, x)},
                f"no_grad forward, batch {batch}")  # fmt: skip
    builder, kind, batch, optimizer = NETWORKS[name]
    ours, theirs = _pair(builder)
    x, y = images(kind)
    return ({"shendu": classifier_steps(shendu, ours, optimizer, x, y, batch),
             "torch": classifier_steps(torch, theirs, optimizer, x, y, batch)},
            f"train step, batch {batch}, {optimizer}")  # fmt: skip


ALL = list(NETWORKS) + ["dcgan", "resnet18_infer_b1", "resnet18_infer_b16"]


def memory_probe(name, framework, threads, steps=10):
    """Peak resident-set rise (MB) while one framework runs ``steps`` steps of network ``name``, in this process.

    Both frameworks are imported first (the networks are built in PyTorch and copied), then the kernel's
    high-water mark is reset, so the rise is what the framework's steps allocate.
    """
    import torch

    import shendu

    set_threads(threads)
    runners, _ = runners_for(name)
    del runners["torch" if framework == "shendu" else "shendu"]
    run = runners[framework]
    baseline = common.reset_peak_rss()
    for _ in range(steps):
        next(run)
    peak = common.peak_rss_mb()
    del torch, shendu
    return {"network": name, "framework": framework, "rise_mb": None if baseline is None else peak - baseline}


def measure(name, threads, rounds, steps, settle=0.0):
    set_threads(threads)
    runners, what = runners_for(name)
    for run in runners.values():  # warm-up: first-call costs and caches
        next(run)
        next(run)
    samples = interleave(runners, [steps] * rounds, settle)
    ms = {k: statistics.median(w for w, _ in v) / steps * 1e3 for k, v in samples.items()}
    cpu = {k: statistics.median(c for _, c in v) / steps * 1e3 for k, v in samples.items()}
    return {"network": name, "threads": threads, "what": what, "shendu_ms": ms["shendu"], "torch_ms": ms["torch"],
            "ratio": ms["shendu"] / ms["torch"], "cpu_ratio": cpu["shendu"] / cpu["torch"]}  # fmt: skip


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=None, help="comma-separated networks: " + ",".join(ALL))
    parser.add_argument("--threads", default="2,1", help="thread counts to measure, e.g. 2,1")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=4, help="steps per round")
    parser.add_argument("--json", default=None)
    parser.add_argument("--settle", type=float, default=0.0,
                        help="seconds to wait, untimed, before each round (the other framework's threads stop spinning)")
    parser.add_argument("--memory", action="store_true", help="also the peak memory rise of each framework (subprocesses)")
    parser.add_argument("--memory-probe", nargs=2, metavar=("NETWORK", "FRAMEWORK"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_probe:
        print(json.dumps(memory_probe(*args.memory_probe, threads=int(args.threads.split(",")[0]))))
        return [True]
    names = args.only.split(",") if args.only else ALL
    unknown = sorted(set(names) - set(ALL))
    if unknown:
        parser.error(f"unknown network(s) {unknown}; choose from {ALL}")
    results = []
    print(f"{'network':<20} {'threads':>7} {'shendu ms':>10} {'torch ms':>10} {'ratio':>7} {'cpu ratio':>9}  step")
    for threads in [int(t) for t in args.threads.split(",")]:
        for name in names:
            row = measure(name, threads, args.rounds, args.steps, args.settle)
            results.append(row)
            print(f"{name:<20} {threads:>7} {row['shendu_ms']:>10.1f} {row['torch_ms']:>10.1f} {row['ratio']:>7.2f} "
                  f"{row['cpu_ratio']:>9.2f}  {row['what']}", flush=True)  # fmt: skip
    if args.memory:
        print(f"{'network':<20} {'shendu MB':>10} {'torch MB':>10} {'ratio':>7}  (peak resident-set rise over 10 steps)")
        for name in names:
            rises = {fw: common.run_json_subprocess("benchmarks.cnn_family", ["--memory-probe", name, fw,
                                                                              "--threads", "2"])["rise_mb"]
                     for fw in ("shendu", "torch")}  # fmt: skip
            results.append({"network": name, "memory_mb": rises})
            print(f"{name:<20} {rises['shendu']:>10.1f} {rises['torch']:>10.1f} {rises['shendu'] / rises['torch']:>7.2f}",
                  flush=True)  # fmt: skip
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": machine_info(), "results": results}, f, indent=1)
    return results


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
