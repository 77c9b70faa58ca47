"""torchvision as the reference for shendu.vision, imported without its compiled operators.

The torchvision wheel on PyPI is built against another torch variant than the local CPU wheel, so
``import torchvision`` fails while registering its C++ operators (``torchvision::nms``) — the
case the issue foresaw. Its models, transforms and utils are plain Python on top of torch and do
not need those operators: the module that registers them is replaced by an empty one before the
import. Tests that need torchvision skip with that reason when even this fails.
"""

import sys
import types

import pytest


def torchvision():
    pytest.importorskip("torch")
    if "torchvision" not in sys.modules:
        sys.modules.setdefault("torchvision._meta_registrations", types.ModuleType("torchvision._meta_registrations"))
    try:
        import torchvision as module
    except Exception as error:  # noqa: BLE001 - any failure to import the reference skips, with its reason
        pytest.skip(f"torchvision cannot be imported here: {type(error).__name__}: {error}")
    return module
