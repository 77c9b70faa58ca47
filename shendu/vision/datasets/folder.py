"""Datasets of image files arranged one folder per class: ``root/<class>/<image>``."""

import os

from .utils import VisionDataset

__all__ = ["DatasetFolder", "ImageFolder", "IMG_EXTENSIONS", "pil_loader", "default_loader"]

IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")


def _require_pillow(who):
    try:
        from PIL import Image
    except ImportError as error:
        raise ImportError(
            f"{who} reads images with Pillow, which is not installed; install it with: pip install 'shendu[images]'"
        ) from error
    return Image


def pil_loader(path):
    """Open an image file as an RGB PIL image."""
    Image = _require_pillow("pil_loader")
    with open(path, "rb") as f:
        return Image.open(f).convert("RGB")


default_loader = pil_loader


def find_classes(directory):
    """The class folders of ``directory``, sorted, and their indices."""
    classes = sorted(entry.name for entry in os.scandir(directory) if entry.is_dir())
    if not classes:
        raise FileNotFoundError(f"Couldn't find any class folder in {directory}; expected root/<class>/<files>")
    return classes, {name: i for i, name in enumerate(classes)}


def make_dataset(directory, class_to_idx, extensions=None, is_valid_file=None, allow_empty=False):
    """``(path, class_index)`` for every accepted file under each class folder, in sorted order."""
    if (extensions is None) == (is_valid_file is None):
        raise ValueError("Both extensions and is_valid_file cannot be None or not None at the same time")
    if is_valid_file is None:
        suffixes = tuple(e.lower() for e in extensions)

        def is_valid_file(path):
            return path.lower().endswith(suffixes)

    samples, empty = [], []
    for name in sorted(class_to_idx):
        found = False
        for folder, _, files in sorted(os.walk(os.path.join(directory, name), followlinks=True)):
            for file in sorted(files):
                path = os.path.join(folder, file)
                if is_valid_file(path):
                    samples.append((path, class_to_idx[name]))
                    found = True
        if not found:
            empty.append(name)
    if empty and not allow_empty:
        message = f"Found no valid file for the classes {', '.join(empty)} in {directory}."
        if extensions is not None:
            message += f" Supported extensions are: {', '.join(extensions)}"
        raise FileNotFoundError(message)
    return samples


class DatasetFolder(VisionDataset):
    """Samples are files under ``root/<class>/``, read by ``loader``; labels are the sorted class folders' indices.

    Args:
        root: the folder of class folders.
        loader: reads one file path into a sample.
        extensions: accepted file endings (case-insensitive); or give ``is_valid_file``.
        transform, target_transform: applied to each sample and each label.
        is_valid_file: a function ``path -> bool`` choosing the files.
        allow_empty: allow class folders with no files. Defaults to False.

    Attributes:
        classes: class names (folder names, sorted). class_to_idx: name -> index.
        samples: ``(path, class_index)`` pairs. targets: the class index of each sample.
    """

    def __init__(
        self,
        root,
        loader,
        extensions=None,
        transform=None,
        target_transform=None,
        is_valid_file=None,
        allow_empty=False,
    ):
        super().__init__(root, transform=transform, target_transform=target_transform)
        if not os.path.isdir(self.root):
            raise FileNotFoundError(f"{type(self).__name__}: {self.root} is not a folder")
        self.classes, self.class_to_idx = find_classes(self.root)
        self.samples = make_dataset(self.root, self.class_to_idx, extensions, is_valid_file, allow_empty)
        self.loader = loader
        self.extensions = extensions
        self.targets = [target for _, target in self.samples]

    def __getitem__(self, index):
        path, target = self.samples[index]
        return self._apply_transforms(self.loader(path), target)

    def __len__(self):
        return len(self.samples)


class ImageFolder(DatasetFolder):
    """Images arranged ``root/<class>/<image>.png``, as torchvision's ImageFolder; needs Pillow.

    Each sample is ``(image, class_index)`` with the image an RGB PIL image (after ``transform``,
    e.g. ``transforms.ToTensor()`` gives a float tensor (3, H, W)).

    Example:
        >>> data = ImageFolder("photos", transform=transforms.ToTensor())
        >>> data.classes, data.class_to_idx
        (['cat', 'dog'], {'cat': 0, 'dog': 1})
    """

    def __init__(self, root, transform=None, target_transform=None, loader=None, is_valid_file=None, allow_empty=False):
        if loader is None:
            _require_pillow("ImageFolder")  # fail now, not at the first sample
            loader = default_loader
        super().__init__(
            root,
            loader,
            IMG_EXTENSIONS if is_valid_file is None else None,
            transform=transform,
            target_transform=target_transform,
            is_valid_file=is_valid_file,
            allow_empty=allow_empty,
        )
        self.imgs = self.samples
