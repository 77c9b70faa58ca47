"""``shendu.distributions``: probability distributions with differentiable ``log_prob``, as ``torch.distributions``.

The ones reinforcement-learning and variational programs reach for: :class:`Normal` (with the
reparameterised ``rsample``), :class:`Categorical`, :class:`Bernoulli`, :class:`Uniform`, and
:func:`kl_divergence` between two Normals, two Categoricals or two Bernoullis. Draws come from
shendu's generator (:func:`shendu.manual_seed`).

Example (REINFORCE):
    >>> m = Categorical(logits=policy(state))
    >>> action = m.sample()
    >>> loss = -m.log_prob(action) * reward
"""

from .bernoulli import Bernoulli
from .categorical import Categorical
from .distribution import Distribution
from .kl import kl_divergence
from .normal import Normal
from .uniform import Uniform

__all__ = ["Distribution", "Normal", "Categorical", "Bernoulli", "Uniform", "kl_divergence"]
