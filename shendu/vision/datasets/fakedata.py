"""``FakeData``: random images with random labels, for trying a pipeline without any files (torchvision's)."""

import numpy as np

from .utils import VisionDataset

__all__ = ["FakeData"]


class FakeData(VisionDataset):
    """``size`` images of ``image_size`` (C, H, W) and labels in ``[0, num_classes)``.

    Each sample is drawn from a generator seeded with ``index + random_offset``, so a sample is the
    same every time it is read. Like torchvision, the image is a PIL image (Pillow installed; from
    standard-normal values scaled by 255 and cut to 8 bits, as ``ToPILImage`` does) or else a uint8
    array (H, W, C).

    Example:
        >>> data = FakeData(size=100, image_size=(3, 32, 32), num_classes=10, transform=transforms.ToTensor())
    """

    def __init__(self, size=1000, image_size=(3, 224, 224), num_classes=10, transform=None, target_transform=None,
                 random_offset=0):  # fmt: skip
        super().__init__(None, transform=transform, target_transform=target_transform)
        if not (isinstance(size, int) and size >= 0):
            raise ValueError(f"FakeData: size must be a non-negative integer. Received: size={size!r}")
        if not (isinstance(image_size, (tuple, list)) and len(image_size) == 3 and all(isinstance(d, int) and d > 0 for d in image_size)):
            raise ValueError(f"FakeData: image_size must be (C, H, W) of positive integers. Received: image_size={image_size!r}")
        if not (isinstance(num_classes, int) and num_classes > 0):
            raise ValueError(f"FakeData: num_classes must be a positive integer. Received: num_classes={num_classes!r}")
        self.size, self.image_size, self.num_classes, self.random_offset = size, tuple(image_size), num_classes, int(random_offset)

    def __len__(self):
        return self.size

    def __getitem__(self, index):
        if not -self.size <= index < self.size:
            raise IndexError(f"{type(self).__name__} index out of range")
        index %= self.size
        rng = np.random.default_rng(index + self.random_offset)
        values = rng.standard_normal(self.image_size).astype(np.float32)
        target = int(rng.integers(0, self.num_classes))
        pixels = (np.clip(values, 0, 1) * 255).astype(np.uint8).transpose(1, 2, 0)  # ToPILImage: mul(255).byte()
        try:
            from PIL import Image

            image = Image.fromarray(pixels[:, :, 0] if pixels.shape[2] == 1 else pixels)
        except ImportError:
            image = pixels
        return self._apply_transforms(image, target)
