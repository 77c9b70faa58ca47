"""Vision (the ``torchvision`` dialect): :mod:`~shendu.vision.datasets`, :mod:`~shendu.vision.transforms`,
:mod:`~shendu.vision.models`, :mod:`~shendu.vision.utils` (``make_grid``, ``save_image``) and the
MNIST IDX format (:mod:`~shendu.vision.idx`). ``import shendu.vision as torchvision`` runs programs
written for torchvision.

Example:
    >>> from shendu.vision import datasets, models, transforms
    >>> train = datasets.EmbeddedDigits(train=True, transform=transforms.ToTensor())
    >>> model = models.resnet18(num_classes=10)
"""

from . import datasets, idx, models, transforms, utils

