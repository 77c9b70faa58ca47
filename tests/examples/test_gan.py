"""Example 10: the GAN on the embedded digits: finite losses, varied samples, both PNGs written."""

import numpy as np

import shendu
from examples import gan

PNG = b"\x89PNG\r\n\x1a\n"


def test_gan_trains_and_writes_samples_and_loss_curves(tmp_path, capsys):
    result = gan.main(["--fast", "--out", str(tmp_path)])
    assert len(result["d_losses"]) == len(result["g_losses"]) == 100
    assert np.all(np.isfinite(result["d_losses"])) and np.all(np.isfinite(result["g_losses"]))
    images = result["images"]
    shendu.manual_seed(0)
    untrained = gan.sample(gan.build_generator())  # the generator train_gan starts from (same seed)
    real_mean = (gan.real_digits().mean(axis=0).reshape(28, 28) + 1) / 2
    before = np.abs(untrained.mean(axis=0) - real_mean).mean()
    after = np.abs(images.mean(axis=0) - real_mean).mean()
    assert after < 0.7 * before  # 100 updates already pull the samples towards the digits' average
    assert images.shape == (256, 28, 28) and images.min() >= 0.0 and images.max() <= 1.0
    assert images.std(axis=0).mean() > 0.01  # not one image 64 times
    for name in ("gan_samples.png", "gan_losses.png"):
        assert (tmp_path / name).read_bytes()[:8] == PNG
    assert "wrote" in capsys.readouterr().out
