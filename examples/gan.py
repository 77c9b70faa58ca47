"""A generative adversarial network (seeds 000 and 004) on the embedded MNIST digits.

Two networks trained against each other: the generator (64 random numbers → 256 → 512 → 784
pixels, batch-normalised hidden layers) makes a 28×28 image; the discriminator (784 → 512 → 256 →
1) says whether an image is a real digit or the generator's. Each update first teaches the
discriminator (real → 0.9, a smoothed 1, and generated → 0), then the generator (make the
discriminator say 1) — binary cross-entropy from logits, Adam (lr 0.001, β1 = 0.5), batch 64,
40 epochs (5,000 updates).

It saves a grid of 64 generated digits (``gan_samples.png``) and the two loss curves
(``gan_losses.png``). To put a number on "look like the data", a small classifier trained on the
real digits then reads 256 generated ones: the share it recognises with confidence ≥ 0.9 and how
many of the ten digits appear among them, beside the same share for 256 real test digits.

Run: ``python -m examples.gan [--epochs N] [--out DIR]`` (plots need ``shendu[plot]``).
"""

import argparse
import os
import sys

import numpy as np

import shendu
import shendu.nn as nn
import shendu.optim as optim
from shendu.vision.datasets import load_digits

LATENT = 64


def build_generator(latent=LATENT, hidden=256):
    """z (latent) → 256 → 512 → 784 pixels in [-1, 1], batch normalisation on the hidden layers."""
    return nn.Sequential(
        nn.Linear(latent, hidden), nn.BatchNorm1d(hidden), nn.LeakyReLU(0.2),
        nn.Linear(hidden, 2 * hidden), nn.BatchNorm1d(2 * hidden), nn.LeakyReLU(0.2),
        nn.Linear(2 * hidden, 784), nn.Tanh(),
    )  # fmt: skip


def build_discriminator(hidden=256):
    """784 pixels → 512 → 256 → 1 logit (real or generated)."""
    return nn.Sequential(
        nn.Linear(784, 2 * hidden), nn.LeakyReLU(0.2),
        nn.Linear(2 * hidden, hidden), nn.LeakyReLU(0.2),
        nn.Linear(hidden, 1),
    )  # fmt: skip


def real_digits():
    """The 8,000 training digits scaled to [-1, 1], as rows of 784 float32 values."""
    (x_train, _), _ = load_digits()
    return x_train.reshape(-1, 784).astype(np.float32) / 127.5 - 1.0


def train_gan(epochs=40, batch_size=64, lr=1e-3, seed=0, max_steps=None, log_every=1, real_label=0.9):
    """Alternate discriminator and generator updates; returns (generator, d_losses, g_losses)."""
    shendu.manual_seed(seed)
    data = real_digits()
    generator, discriminator = build_generator(), build_discriminator()
    g_opt = optim.Adam(generator.parameters(), lr=lr, betas=(0.5, 0.999))
    d_opt = optim.Adam(discriminator.parameters(), lr=lr, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()
    ones, zeros = shendu.ones(batch_size, 1), shendu.zeros(batch_size, 1)
    real_targets = shendu.full((batch_size, 1), real_label)  # one-sided label smoothing keeps D from over-confidence
    rng = np.random.default_rng(seed)
    d_losses, g_losses = [], []
    step = 0
    for epoch in range(epochs):
        for start in range(0, len(data) - batch_size + 1, batch_size):
            if start == 0:
                data = data[rng.permutation(len(data))]
            real = shendu.tensor(data[start : start + batch_size])
            # 1) the discriminator: real digits → 0.9, generated → 0 (the generator is not updated here)
            fake = generator(shendu.randn(batch_size, LATENT))
            d_loss = bce(discriminator(real), real_targets) + bce(discriminator(fake.detach()), zeros)
            d_opt.zero_grad()
            d_loss.backward()
            d_opt.step()
            # 2) the generator: make the discriminator call its images real
            g_loss = bce(discriminator(fake), ones)
            g_opt.zero_grad()
            g_loss.backward()
            g_opt.step()
            d_losses.append(d_loss.item())
            g_losses.append(g_loss.item())
            step += 1
            if max_steps and step >= max_steps:
                return generator, d_losses, g_losses
        if log_every and (epoch + 1) % log_every == 0:
            n = len(data) // batch_size
            print(f"epoch {epoch + 1}/{epochs}: D loss {np.mean(d_losses[-n:]):.3f}, G loss {np.mean(g_losses[-n:]):.3f}")
    return generator, d_losses, g_losses


def sample(generator, n=64, seed=1):
    """``n`` generated digits as (n, 28, 28) arrays in [0, 1]."""
    generator.eval()
    with shendu.no_grad():
        z = shendu.tensor(np.random.default_rng(seed).standard_normal((n, LATENT)).astype(np.float32))
        images = generator(z).numpy().reshape(n, 28, 28)
    generator.train()
    return (images + 1.0) / 2.0


def score_samples(images, epochs=2, seed=0):
    """Read generated digits with a 784-128-10 classifier trained on the real ones.

    Returns ``(confident share, digits seen, real share)``: the share of samples classified with
    probability ≥ 0.9, how many distinct digits those confident samples cover, and the same share
    for as many real test digits (the yardstick: the classifier is not sure of every real digit).
    """
    from shendu import train

    (x_train, y_train), (x_test, _) = load_digits()
    shendu.manual_seed(seed)
    classifier = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    train.fit(classifier, nn.CrossEntropyLoss(), optim.Adam(classifier.parameters(), lr=1e-3),
              (x_train.reshape(-1, 784).astype(np.float32) / 255, y_train), epochs=epochs, batch_size=100,
              verbose=0, seed=seed)  # fmt: skip

    def probabilities(x):
        logits = train.predict(classifier, x.reshape(-1, 784).astype(np.float32))
        p = np.exp(logits - logits.max(axis=1, keepdims=True))
        return p / p.sum(axis=1, keepdims=True)

    p = probabilities(images)
    confident = p.max(axis=1) >= 0.9
    real = probabilities(x_test[: len(images)] / 255.0).max(axis=1) >= 0.9
    return float(confident.mean()), int(len(set(p.argmax(axis=1)[confident].tolist()))), float(real.mean())


def save_plots(images, d_losses, g_losses, out_dir):
    """Write ``gan_samples.png`` (an 8×8 grid) and ``gan_losses.png`` (both curves); return the paths."""
    try:
        from matplotlib.figure import Figure  # no pyplot: works on any machine, changes no backend
        from matplotlib.image import imsave
    except ImportError:  # pragma: no cover - the [plot] extra is part of [dev]
        raise ImportError("the GAN example draws with matplotlib: pip install 'shendu[plot]'") from None
    os.makedirs(out_dir, exist_ok=True)
    side = int(np.ceil(np.sqrt(len(images))))
    grid = np.ones((side * 29 + 1, side * 29 + 1))
    for i, image in enumerate(images):
        r, c = divmod(i, side)
        grid[1 + r * 29 : 1 + r * 29 + 28, 1 + c * 29 : 1 + c * 29 + 28] = 1.0 - image  # dark ink on white
    samples_path = os.path.join(out_dir, "gan_samples.png")
    imsave(samples_path, grid, cmap="gray", vmin=0.0, vmax=1.0)

    fig = Figure(figsize=(7, 3.5))
    ax = fig.subplots()
    window = max(1, len(d_losses) // 50)
    smooth = np.ones(window) / window
    for losses, label, color in ((d_losses, "discriminator", "tab:blue"), (g_losses, "generator", "tab:orange")):
        ax.plot(losses, color=color, alpha=0.2, linewidth=0.6)
        ax.plot(np.arange(window - 1, len(losses)), np.convolve(losses, smooth, mode="valid"), color=color, label=label)
    ax.set_xlabel("update")
    ax.set_ylabel("binary cross-entropy")
    ax.set_title("GAN on the embedded MNIST digits")
    ax.legend()
    fig.tight_layout()
    losses_path = os.path.join(out_dir, "gan_losses.png")
    fig.savefig(losses_path, dpi=100)
    return samples_path, losses_path


def run(epochs=40, out_dir=".", seed=0, max_steps=None, score_epochs=2):
    generator, d_losses, g_losses = train_gan(epochs, seed=seed, max_steps=max_steps)
    images = sample(generator, n=256)
    samples_path, losses_path = save_plots(images[:64], d_losses, g_losses, out_dir)
    confident, digits, real = score_samples(images, epochs=score_epochs, seed=seed)
    return {
        "d_losses": d_losses, "g_losses": g_losses, "images": images, "samples_png": samples_path,
        "losses_png": losses_path, "confident": confident, "digits_seen": digits, "real_confident": real,
    }  # fmt: skip


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--out", default=".", help="folder for gan_samples.png and gan_losses.png (default .)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fast", action="store_true", help="100 updates")
    args = parser.parse_args(argv)
    r = run(1 if args.fast else args.epochs, args.out, args.seed, max_steps=100 if args.fast else None,
            score_epochs=1 if args.fast else 2)  # fmt: skip
    n = len(r["d_losses"])
    print(f"{n:,} updates; last 100: D loss {np.mean(r['d_losses'][-100:]):.3f}, G loss {np.mean(r['g_losses'][-100:]):.3f}")
    print(f"a digit classifier reads {100 * r['confident']:.0f} % of 256 generated samples with confidence ≥ 0.9, "
          f"covering {r['digits_seen']} of the 10 digits (real test digits: {100 * r['real_confident']:.0f} %)")  # fmt: skip
    print(f"wrote {r['samples_png']} and {r['losses_png']}")
    return r


if __name__ == "__main__":
    main(sys.argv[1:])
