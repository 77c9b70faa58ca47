"""Conversions: ToPILImage, PILToTensor, ConvertImageDtype (torchvision's)."""

from . import functional as F

__all__ = ["ToPILImage", "PILToTensor", "ConvertImageDtype"]


class ToPILImage:
    """Tensor (C, H, W) or array (H, W[, C]) → PIL image (float values read in [0, 1])."""

    def __init__(self, mode=None):
        self.mode = mode

    def __call__(self, pic):
        return F.to_pil_image(pic, self.mode)

    def __repr__(self):
        return f"{type(self).__name__}(mode={self.mode})" if self.mode else f"{type(self).__name__}()"


class PILToTensor:
    """PIL image → tensor (C, H, W) of its own dtype, unscaled."""

    def __call__(self, pic):
        return F.pil_to_tensor(pic)

    def __repr__(self):
        return f"{type(self).__name__}()"


class ConvertImageDtype:
    """A tensor image in another dtype, values rescaled (uint8 [0, 255] ↔ float [0, 1])."""

    def __init__(self, dtype):
        self.dtype = dtype

    def __call__(self, image):
        return F.convert_image_dtype(image, self.dtype)

    def __repr__(self):
        return f"{type(self).__name__}()"
