"""One SBC simulation: fit the simulated data set and rank the truths (worker side).

:func:`sbc_task` is what :func:`bayesmixed.validate.sbc` maps over the simulations through
:func:`bayesmixed.parallel.run_tasks`: a module-level function of a plain task description
(data, seeds, sampler settings, the true values), so it runs the same in this process or on a
Dask worker. Every random number it uses comes from the task's seeds (the sampler seed and
the seed breaking rank ties), so the ranks do not depend on where or in which order it runs.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

from bayesmixed.errors import BayesmixedError
from bayesmixed.names import r_var
from bayesmixed.validate.uniformity import rank_statistic

__all__ = ["named_values", "sbc_task"]


def named_values(ds, meta: dict, include_effects: bool) -> dict[str, np.ndarray]:
    """Parameter name -> (chain, draw) array: summary parameters and first-level effects.

    Examples
    --------
    >>> sorted(named_values(fit.idata, fit.meta, include_effects=True))[:2]
    ['Days', 'Intercept']
    """
    from bayesmixed.report.core.draws import internal
    from bayesmixed.report.core.params import parameter_dataset

    params = parameter_dataset(ds, meta)
    out = {name: np.asarray(params[name].values) for name in params.data_vars}
    if include_effects:
        post = internal(ds)
        for blk in meta["blocks"]:
            r = np.asarray(post[r_var(blk["label"])].values)  # chain, draw, level, term
            level = str(post[r_var(blk["label"])].coords[blk["label"]].values[0])
            for t, term in enumerate(blk["terms"]):
                out[f"r({term}|{blk['factor']})[{level}]"] = r[:, :, 0, t]
    return out


def _form_code(choice: dict) -> str:
    """M (integrated out), C (centered), PC (partially centered), P (pivot level), NC.

    Examples
    --------
    >>> _form_code({"centered": False, "partial": True})
    'PC'
    """
    if choice.get("marginal"):
        return "M"
    if choice["centered"]:
        return "C"
    return "PC" if choice.get("partial") else "P" if choice.get("pivot_level") else "NC"



def sbc_task(task: Mapping[str, Any]) -> tuple[dict[str, int] | None, dict[str, Any]]:
    """Fit one simulated data set and rank the true values: ``(ranks or None, sim row)``.

    ``task`` holds ``sim``, ``spec`` (the spec fitted), ``data`` (the simulated data set),
    ``seed`` (sampler), ``tie_seed`` (rank ties), ``truths`` (name -> true value),
    ``include_effects``, ``n_rank_draws`` and the sampler settings ``chains``, ``draws``,
    ``tune``, ``target_accept``, ``backend``, ``centered``. A data set the model refuses gives
    ``(None, row)`` with the message in ``row["error"]``.

    Examples
    --------
    >>> ranks, row = sbc_task({"sim": 0, "spec": "y ~ z", "data": pd.DataFrame({"y": [1.0]}),
    ...                        "seed": 1, "tie_seed": 2, "truths": {}, "include_effects": False,
    ...                        "n_rank_draws": 9, "chains": 1, "draws": 10, "tune": 10,
    ...                        "target_accept": 0.8, "backend": "nutpie", "centered": "auto"})
    >>> ranks is None, row["error"].startswith("column 'z'")
    (True, True)
    """
    from bayesmixed.api import fit as fit_model
    from bayesmixed.report.core.params import parameter_dataset
    from bayesmixed.report.tables.summary import convergence
    from bayesmixed.sample.backends import reuse_compiled

    t0 = time.perf_counter()
    row: dict[str, Any] = {"seed": int(task["seed"]), "error": ""}
    try:
        # "auto" goes to bm.fit as it is: the automatic rule, and for a gaussian model with
        # one factor the effects integrated out (bayesmixed.graph.marginal), are validated
        with warnings.catch_warnings(), reuse_compiled():
            warnings.simplefilter("ignore")
            fit = fit_model(
                task["spec"], task["data"], chains=task["chains"], draws=task["draws"],
                tune=task["tune"], target_accept=task["target_accept"], seed=int(task["seed"]),
                backend=task["backend"], progress=False, centered=task["centered"],
                log_likelihood=False,
            )
    except BayesmixedError as exc:  # a simulated data set the model refuses: record it
        row["error"] = str(exc)
        row["seconds"] = time.perf_counter() - t0
        return None, row
    tie_rng = np.random.default_rng(task["tie_seed"])
    post = named_values(fit.idata, fit.meta, task["include_effects"])
    ranks = {
        name: rank_statistic(v, float(task["truths"][name]), task["n_rank_draws"], tie_rng)
        for name, v in post.items()
    }
    conv = convergence(parameter_dataset(fit.idata, fit.meta))
    stats = fit.idata["sample_stats"]
    div = stats["diverging"].values if "diverging" in stats else 0
    row.update(
        centered=",".join(f"{f}={_form_code(v)}" for f, v in fit.meta["parameterization"].items()),
        divergences=int(np.sum(div)),
        min_ess_bulk=float(conv["ess_bulk"].min()),
        max_rhat=float(conv["r_hat"].max()),
        seconds=time.perf_counter() - t0,
    )
    return ranks, row
