"""Type aliases of the public signatures (as ``torch.types``): what a shape, a dtype or a device may be."""

from collections.abc import Sequence
from typing import Any

#: a Python number
Number = int | float | bool
#: a shape: one int per dimension, given as several ints or as one sequence (``zeros(2, 3)``, ``zeros((2, 3))``)
ShapeLike = int | Sequence[int]
#: a dtype: ``shendu.float32``, a NumPy dtype, or its name
DTypeLike = Any
#: a device: ``"cpu"``, ``shendu.device("cpu")`` (shendu computes on the CPU)
DeviceLike = Any
