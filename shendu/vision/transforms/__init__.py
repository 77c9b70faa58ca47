"""Image transforms (the ``torchvision.transforms`` dialect).

Images may be a shendu Tensor ``(..., H, W)``, a NumPy array ``(H, W[, C])`` or a PIL image; each
transform returns the kind it was given (``ToTensor``/``PILToTensor`` make tensors,
``ToPILImage`` PIL images). Random transforms draw from shendu's global generator, so
``shendu.manual_seed`` makes augmentation repeatable. :mod:`.functional` holds the functions
behind them (``import shendu.vision.transforms.functional as TF``).

Example:
    >>> train = Compose([RandomResizedCrop(224), RandomHorizontalFlip(), ColorJitter(0.4, 0.4, 0.4),
    ...                  ToTensor(), Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))])
"""

from . import functional
from .color import ColorJitter, GaussianBlur, Grayscale, RandomGrayscale
from .composition import RandomApply, RandomChoice, RandomOrder
from .conversion import ConvertImageDtype, PILToTensor, ToPILImage
from .core import (
    Compose, InterpolationMode, Lambda, Normalize, RandomCrop, RandomHorizontalFlip, RandomRotation, RandomVerticalFlip,
    ToTensor, batchable, rotate,
)  # fmt: skip
from .erasing import RandomErasing
from .geometry import CenterCrop, FiveCrop, Pad, RandomAffine, RandomPerspective, RandomResizedCrop, Resize, TenCrop

__all__ = [
    "Compose", "ToTensor", "PILToTensor", "ToPILImage", "ConvertImageDtype", "Normalize", "Lambda", "Resize", "CenterCrop",
    "Pad", "RandomCrop", "RandomResizedCrop", "FiveCrop", "TenCrop", "RandomHorizontalFlip", "RandomVerticalFlip",
    "RandomRotation", "RandomAffine", "RandomPerspective", "ColorJitter", "Grayscale", "RandomGrayscale", "GaussianBlur",
    "RandomErasing", "RandomApply", "RandomChoice", "RandomOrder", "InterpolationMode", "batchable", "functional",
]  # fmt: skip
