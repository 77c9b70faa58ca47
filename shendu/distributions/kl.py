"""KL(p ‖ q) between two distributions of the same family."""

from .bernoulli import Bernoulli
from .categorical import Categorical
from .normal import Normal

__all__ = ["kl_divergence"]


def kl_divergence(p, q):
    """KL(p ‖ q) = E_p[log p − log q], in closed form.

    Normal: log(σ_q/σ_p) + (σ_p² + (μ_p − μ_q)²)/(2σ_q²) − ½; Categorical: Σ p (log p − log q);
    Bernoulli: the two-outcome Categorical.
    """
    if isinstance(p, Normal) and isinstance(q, Normal):
        var_ratio = (p.scale / q.scale).pow(2)
        t1 = ((p.loc - q.loc) / q.scale).pow(2)
        return 0.5 * (var_ratio + t1 - 1 - var_ratio.log())
    if isinstance(p, Categorical) and isinstance(q, Categorical):
        return (p.probs * (p.logits - q.logits)).sum(-1)
    if isinstance(p, Bernoulli) and isinstance(q, Bernoulli):
        from ..nn.functional import softplus

        # p·(log p − log q) + (1 − p)·(log(1 − p) − log(1 − q)), written with logits
        return p.probs * (softplus(-q.logits) - softplus(-p.logits)) + (1 - p.probs) * (softplus(q.logits) - softplus(p.logits))
    raise NotImplementedError(f"kl_divergence: no closed form for {type(p).__name__} and {type(q).__name__}")
