"""Persistence without pickle: tensors in safetensors files, whole models as config + weights.

- :func:`save` / :func:`load`: a ``state_dict`` (or nested state such as an optimiser's) in
  the safetensors format.
- :func:`save_model` / :func:`load_model`: a model directory (``config.json`` architecture
  built only from registered layer classes, ``model.safetensors``, ``metadata.json``).
- :func:`register_model` / :func:`register_layer`: let your own ``Module`` subclasses be saved.

Every write is atomic (a temporary file in the same directory, ``fsync``, ``os.replace``).
"""

from .atomic import atomic_open, atomic_write, atomic_write_many
from .model_files import (
    FORMAT_VERSION,
    ModelFormatError,
    load_metadata,
    load_model,
    model_from_config,
    model_to_config,
    register_layer,
    register_model,
    registered_layers,
    save_model,
)
from .files import NotARegularFileError
from .metadata import MetadataError
from .serialization import MAX_HEADER_BYTES, SerializationError, load, load_bytes, read_metadata, save, save_bytes

__all__ = [
    "save", "load", "save_bytes", "load_bytes", "read_metadata", "save_model", "load_model", "load_metadata",
    "register_layer", "register_model", "registered_layers", "model_to_config", "model_from_config",
    "ModelFormatError", "SerializationError", "atomic_write", "atomic_write_many", "atomic_open",
    "FORMAT_VERSION", "MAX_HEADER_BYTES", "NotARegularFileError", "MetadataError",
]  # fmt: skip
