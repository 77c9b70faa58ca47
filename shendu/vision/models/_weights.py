"""What ``weights=`` / ``pretrained=`` mean in ``shendu.vision.models`` (torchvision's arguments).

shendu ships no pretrained weights and never downloads them at run time. ``weights=None`` (or
``pretrained=False``) builds a freshly initialised model. Asking for pretrained weights explains
how to load a local file instead: a torchvision checkpoint (``.pth``, read by ``shendu.load``
through its restricted unpickler) or a safetensors file, both with the same ``state_dict`` keys.
"""

__all__ = ["check_weights"]


class PretrainedWeightsUnavailable(RuntimeError):
    """Pretrained weights were asked for; shendu loads them only from a local file."""


def check_weights(builder, weights=None, pretrained=None, **kwargs):
    """Refuse ``weights`` other than None (and ``pretrained=True``) with instructions; return the other kwargs."""
    if pretrained is not None and not isinstance(pretrained, bool):
        raise TypeError(f"{builder}: pretrained must be True or False. Received: pretrained={pretrained!r}")
    if weights is not None or pretrained:
        asked = f"weights={weights!r}" if weights is not None else "pretrained=True"
        raise PretrainedWeightsUnavailable(
            f"{builder}({asked}): shendu does not download pretrained weights. Build the model with {builder}(weights=None) "
            f"and load a local file with the same keys: model.load_state_dict(shendu.load('{builder}.pth')) reads a "
            "torchvision checkpoint (or a .safetensors file) saved on a machine that has it"
        )
    for legacy in ("progress",):
        kwargs.pop(legacy, None)
    return kwargs
