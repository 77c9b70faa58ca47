"""Vision data (the ``torchvision`` dialect): :mod:`~shendu.vision.datasets`, :mod:`~shendu.vision.transforms`
and the MNIST IDX format (:mod:`~shendu.vision.idx`).

Example:
    >>> from shendu.vision import datasets, transforms
    >>> train = datasets.EmbeddedDigits(train=True, transform=transforms.ToTensor())
"""

from . import datasets, idx, transforms
