"""Predictions with the latent AR(1) process of an ``ar()`` term (non-gaussian families).

What :func:`~bayesmixed.report.predict.predict.predict` does with the process
(:mod:`bayesmixed.design.latent_ar`):

- on the fitted rows with ``groups="observed"``: the sampled process of each row (every kind);
- otherwise (new data, or other ``groups``): ``kind="response"`` draws a new stationary process
  for the series of the rows (their ``time`` and ``gr`` columns), one per posterior draw;
  ``kind="mean"`` (and an ordinal ``"probs"``) integrates it out: the process of a row is
  ``N(0, s^2)`` with ``s = sigma_ar / sqrt(1 - ar[1]^2)`` its stationary sd, added to the
  random-effect variance ``v`` of ``groups="marginal"``; ``kind="linpred"`` sets it to its
  mean, 0.
"""

from __future__ import annotations

from bayesmixed.design.latent_ar import latent_process, stationary_sd
from bayesmixed.names import AR_LATENT_SD, ar_label
from bayesmixed.report.core.linpred import fitted_process, posterior_matrix

__all__ = ["latent_part"]


def latent_part(idata, meta: dict, inputs, kind: str, groups: str, rng, idx_draws):
    """``(process, variance)`` for the rows of ``inputs`` (see the module docstring).

    ``process`` (draws, rows) is added to the linear predictor, or None; ``variance``
    (draws, 1) is integrated over, or None.

    Examples
    --------
    >>> latent_part(fit.idata, fit.meta, None, "mean", "observed", None, None)  # no ar() term
    (None, None)
    """
    if not meta.get("latent_ar"):
        return None, None
    if inputs.fitted and groups == "observed":
        return fitted_process(idata, meta, inputs.ar_codes, idx_draws), None
    phi, sd = (posterior_matrix(idata, v).reshape(-1) for v in (ar_label(1), AR_LATENT_SD))
    if idx_draws is not None:
        phi, sd = phi[idx_draws], sd[idx_draws]
    if kind == "response":
        z = rng.standard_normal((phi.shape[0], inputs.n))
        return latent_process(z, phi, sd, inputs.ar_codes), None
    if kind in ("mean", "probs"):
        return None, (stationary_sd(phi, sd) ** 2)[:, None]
    return None, None
