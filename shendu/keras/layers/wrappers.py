"""Bidirectional: a recurrent layer run forwards and backwards over the sequence, the outputs merged."""

from ...ops.shape import cat, flip
from .base import Layer
from .recurrent import _RNN

__all__ = ["Bidirectional", "TimeDistributed"]

_MERGE_MODES = ("concat", "sum", "mul", "ave", None)


class Bidirectional(Layer):
    """Runs ``layer`` over the sequence and a copy of it over the reversed sequence, then merges the outputs.

    Args:
        layer: a SimpleRNN, LSTM or GRU.
        merge_mode: ``"concat"``, ``"sum"``, ``"mul"``, ``"ave"`` or None (a list of both). Defaults to "concat".

    Example:
        >>> Bidirectional(LSTM(32))(embedded)   # (batch, steps, dim) -> (batch, 64)
    """

    def __init__(self, layer, merge_mode: str = "concat", backward_layer=None, **kwargs) -> None:
        super().__init__(**kwargs)
        if not isinstance(layer, _RNN):
            raise ValueError(f"Bidirectional expects a SimpleRNN, LSTM or GRU layer. Received: layer={layer!r}")
        if merge_mode not in _MERGE_MODES:
            raise ValueError(f"Invalid merge mode. Received: merge_mode={merge_mode!r}. Merge mode should be one of "
                             f"{list(_MERGE_MODES)}")  # fmt: skip
        if layer.return_state:
            raise ValueError("Bidirectional: return_state=True is not supported")
        self.merge_mode = merge_mode
        self.forward_layer = layer
        if backward_layer is None:
            config = layer.get_config()
            config.update(go_backwards=not layer.go_backwards, name=f"backward_{layer.name}")
            backward_layer = type(layer).from_config(config)
        self.backward_layer = backward_layer
        self.return_sequences = layer.return_sequences
        for direction in (self.forward_layer, self.backward_layer):
            direction.zero_output_for_mask = self.return_sequences  # as Keras: masked steps give zeros

    def build(self, input_shape):
        self.forward_layer._maybe_build(input_shape)
        self.backward_layer._maybe_build(input_shape)

    supports_masking = True

    def compute_mask(self, inputs, previous_mask=None):
        return previous_mask if self.return_sequences else None

    def call(self, inputs, mask=None):
        forward = self.forward_layer(inputs, mask=mask)
        backward = self.backward_layer(inputs, mask=mask)
        if self.return_sequences:
            backward = flip(backward, [1])  # back in the original time order
        if self.merge_mode == "concat":
            return cat([forward, backward], dim=-1)
        if self.merge_mode == "sum":
            return forward + backward
        if self.merge_mode == "mul":
            return forward * backward
        if self.merge_mode == "ave":
            return (forward + backward) * 0.5
        return [forward, backward]

    def compute_output_shape(self, input_shape):
        shape = self.forward_layer.compute_output_shape(input_shape)
        if self.merge_mode == "concat":
            return tuple(shape[:-1]) + (shape[-1] * 2,)
        if self.merge_mode is None:
            return [shape, shape]
        return shape

    def get_config(self):
        return {**super().get_config(), "layer": self.forward_layer, "merge_mode": self.merge_mode,
                "backward_layer": self.backward_layer}  # fmt: skip


class TimeDistributed(Layer):
    """Applies ``layer`` to every step of (batch, steps, ...) inputs: the steps are folded into the batch.

    Example:
        >>> TimeDistributed(Dense(8))(sequence)   # (N, T, F) -> (N, T, 8)
    """

    supports_masking = True

    def __init__(self, layer, **kwargs) -> None:
        super().__init__(**kwargs)
        if not isinstance(layer, Layer):
            raise ValueError(f"Please initialize `TimeDistributed` layer with a `keras.layers.Layer` instance. "
                             f"Received: {layer!r}")  # fmt: skip
        self.layer = layer

    def _check_buildable(self, input_shape):
        if not isinstance(input_shape, tuple) or len(input_shape) < 3:
            raise ValueError(f"`TimeDistributed` Layer should be passed an `input_shape` with at least 3 dimensions, "
                             f"received: {input_shape}")  # fmt: skip

    def build(self, input_shape):
        self.layer._maybe_build((None,) + tuple(input_shape[2:]))

    def call(self, inputs):
        batch, steps = inputs.shape[0], inputs.shape[1]
        folded = self.layer(inputs.reshape(batch * steps, *inputs.shape[2:]))
        return folded.reshape(batch, steps, *folded.shape[1:])

    def compute_output_shape(self, input_shape):
        inner = self.layer.compute_output_shape((None,) + tuple(input_shape[2:]))
        return (input_shape[0], input_shape[1]) + tuple(inner[1:])

    def get_config(self):
        return {**super().get_config(), "layer": self.layer}
