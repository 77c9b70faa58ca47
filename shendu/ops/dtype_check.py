"""Layers take inputs of their own dtype, as in PyTorch: a mismatch is an error naming both dtypes.

PyTorch's ``nn.Linear`` (float32) refuses a float64, int or bool input ("mat1 and mat2 must have
the same dtype"); so do its convolutions, normalisations and recurrent layers. shendu follows it
rather than casting silently, which would hide a float64 pipeline running at float32 precision
(or an integer tensor of token ids sent to the wrong layer). The Keras dialect casts, as Keras
documents: its layers convert inputs to their compute dtype before calling these.
"""

__all__ = ["check_same_dtype"]


def check_same_dtype(name, input, weight):
    """Raise ``RuntimeError`` unless tensor ``input`` has the dtype of tensor ``weight``.

    Args:
        name: the op or layer, for the message (``"Linear"``, ``"conv2d"``).
        input: the input Tensor.
        weight: the parameter Tensor whose dtype the input must have.
    """
    if input._array.dtype != weight._array.dtype:
        given, wanted = input.dtype, weight.dtype
        raise RuntimeError(
            f"{name}: input and weight must have the same dtype, but got {given} and {wanted} "
            f"(convert the input with .to({wanted}), or the layer with .to({given}))"
        )
