"""Variance components in lme4's ``VarCorr`` layout, with posterior intervals on the sd and
variance scales, and their text rendering."""

from __future__ import annotations

import numpy as np
import pandas as pd

from bayesmixed.families import get_family
from bayesmixed.names import cor_pair_label, cor_var, sd_var
from bayesmixed.report.core.draws import flat, interval_columns

__all__ = ["format_varcorr", "varcorr_table"]


def varcorr_table(idata, meta: dict, prob: float = 0.95) -> pd.DataFrame:
    """Variance components in lme4's ``VarCorr`` layout, with posterior intervals.

    Returns
    -------
    pandas.DataFrame
        One row per (group, term) with columns ``std_dev``/``variance`` (posterior means) and
        their interval bounds (``std_dev_lo``, ``std_dev_hi``, ``variance_lo``,
        ``variance_hi``), followed by correlation rows (``name`` = ``"cor(t1,t2)"``, columns
        ``corr``, ``corr_lo``, ``corr_hi``); a ``Residual`` row holds sigma for gaussian models.

    Examples
    --------
    >>> table = varcorr_table(fit.idata, fit.meta)
    >>> table[["group", "name"]].values.tolist()
    [['Subject', 'Intercept'], ['Subject', 'Days'], ['Subject', 'cor(Intercept,Days)'],
    ['Residual', '']]
    """
    lo_q, hi_q = (1 - prob) / 2, 1 - (1 - prob) / 2

    def sd_row(group: str, name: str, sd: np.ndarray) -> dict:
        var = sd**2
        return {
            "group": group,
            "name": name,
            "std_dev": sd.mean(),
            "std_dev_lo": np.quantile(sd, lo_q),
            "std_dev_hi": np.quantile(sd, hi_q),
            "variance": var.mean(),
            "variance_lo": np.quantile(var, lo_q),
            "variance_hi": np.quantile(var, hi_q),
        }

    rows = []
    for blk in meta["blocks"]:
        sd = flat(idata, sd_var(blk["label"]))
        for j, t in enumerate(blk["terms"]):
            rows.append(sd_row(blk["factor"], t, sd[:, j]))
        if blk["correlated"]:
            cor = flat(idata, cor_var(blk["label"]))
            ts = blk["terms"]
            for i in range(len(ts)):
                for j in range(i + 1, len(ts)):
                    c = cor[:, j, i]
                    rows.append(
                        {
                            "group": blk["factor"],
                            "name": cor_pair_label(ts[i], ts[j]),
                            "corr": c.mean(),
                            "corr_lo": np.quantile(c, lo_q),
                            "corr_hi": np.quantile(c, hi_q),
                        }
                    )
    if "sigma" in get_family(meta["family"]).aux:  # residual sd on the data scale
        rows.append(sd_row("Residual", "", flat(idata, "sigma").reshape(-1)))
    cols = [
        "group",
        "name",
        "std_dev",
        "std_dev_lo",
        "std_dev_hi",
        "variance",
        "variance_lo",
        "variance_hi",
        "corr",
        "corr_lo",
        "corr_hi",
    ]
    table = pd.DataFrame(rows).reindex(columns=cols)
    table.attrs["prob"] = prob
    return table


def format_varcorr(table: pd.DataFrame, digits: int = 3) -> str:
    """Text rendering of :func:`varcorr_table` close to lme4's ``print(VarCorr(fit))``.

    Examples
    --------
    >>> print(format_varcorr(varcorr_table(fit.idata, fit.meta)).splitlines()[0])
    Groups       Name                   Std.Dev. [2.5%, 97.5%]               Variance
    """
    prob = table.attrs.get("prob", 0.95)
    lo, hi = interval_columns(prob)
    head = f"{'Groups':<12} {'Name':<22} {'Std.Dev. [' + lo + ', ' + hi + ']':<34} {'Variance':>10}"
    lines = [head]
    last = None
    for r in table.itertuples(index=False):
        grp = "" if r.group == last else r.group
        last = r.group
        if pd.notna(r.std_dev):
            ci = f"{r.std_dev:.{digits}f} [{r.std_dev_lo:.{digits}f}, {r.std_dev_hi:.{digits}f}]"
            lines.append(f"{grp:<12} {r.name:<22} {ci:<34} {r.variance:>10.{digits}f}")
        else:
            ci = f"{r.corr:.2f} [{r.corr_lo:.2f}, {r.corr_hi:.2f}]"
            lines.append(f"{grp:<12} {r.name:<22} {'Corr ' + ci:<34}")
    return "\n".join(lines)
