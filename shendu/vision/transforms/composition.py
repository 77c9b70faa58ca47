"""Random composition: RandomApply, RandomChoice, RandomOrder (torchvision's)."""

from ...random import resolve_generator
from .core import _probability

__all__ = ["RandomApply", "RandomChoice", "RandomOrder"]


def _transforms(transforms, who):
    transforms = list(transforms)
    if not all(callable(t) for t in transforms):
        raise TypeError(f"{who}: every transform must be callable")
    return transforms


class RandomApply:
    """Apply all of ``transforms``, in order, with probability ``p``."""

    def __init__(self, transforms, p=0.5):
        self.transforms, self.p = _transforms(transforms, "RandomApply"), _probability(p)

    def __call__(self, img):
        if self.p < resolve_generator().random():
            return img
        for transform in self.transforms:
            img = transform(img)
        return img

    def __repr__(self):
        inner = "".join(f"\n    {t}" for t in self.transforms)
        return f"{type(self).__name__}(\n    p={self.p}{inner}\n)"


class RandomChoice:
    """Apply one of ``transforms``, picked with probabilities ``p`` (default uniform)."""

    def __init__(self, transforms, p=None):
        self.transforms = _transforms(transforms, "RandomChoice")
        if p is not None and len(p) != len(self.transforms):
            raise ValueError(f"Length of p doesn't match the number of transforms: {len(p)} != {len(self.transforms)}")
        self.p = None if p is None else [float(v) / sum(p) for v in p]

    def __call__(self, img):
        index = int(resolve_generator().choice(len(self.transforms), p=self.p))
        return self.transforms[index](img)

    def __repr__(self):
        return f"{type(self).__name__}(transforms={self.transforms}, p={self.p})"


class RandomOrder:
    """Apply all of ``transforms`` in a random order."""

    def __init__(self, transforms):
        self.transforms = _transforms(transforms, "RandomOrder")

    def __call__(self, img):
        for index in resolve_generator().permutation(len(self.transforms)):
            img = self.transforms[int(index)](img)
        return img

    def __repr__(self):
        return f"{type(self).__name__}(transforms={self.transforms})"
