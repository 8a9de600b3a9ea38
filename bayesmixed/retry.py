"""``bm.fit(..., auto_retry=True)``: refit when the diagnostics verdict is "fail".

Each retry raises ``target_accept`` (to 0.95, then 0.99) and switches the parameterization
(centered <-> non-centered; partially centered -> non-centered) of the grouping factors that
the divergence / R-hat triage (:mod:`bayesmixed.report.triage`) implicates -- once per factor,
so a switch that did not help is not undone and redone. Every attempt is recorded in
``fit.meta["retries"]``: its settings, what changed and why, and its verdict. The first
attempt that does not fail is returned; if all fail, the one with the fewest divergences
(then lowest R-hat), flagged as such.
"""

from __future__ import annotations

from typing import Any

from bayesmixed.report.triage import triage

__all__ = ["TARGET_ACCEPT_STEPS", "retry_fit"]

#: target_accept used by successive retries (never lowered below the user's value)
TARGET_ACCEPT_STEPS = (0.95, 0.99)


def _centered(fit) -> dict[str, bool | str]:
    """Per factor: True, False or "partial" (what ``centered=`` takes to rebuild it)."""
    return {
        f: "partial" if v.get("partial") else bool(v["centered"])
        for f, v in fit.meta["parameterization"].items()
    }


def _record(
    fit, attempt: int, target_accept: float, changes: list[str], implicated: list[str]
) -> dict[str, Any]:
    d = fit.diagnostics()
    return {
        "attempt": attempt,
        "target_accept": float(target_accept),
        "centered": _centered(fit),
        "seed": fit.config.get("seed"),
        "adaptation": fit.config.get("adaptation", "diag"),
        "changes": changes,
        "implicated": implicated,
        "verdict": d.verdict,
        "divergences": int(d.divergences),
        "max_rhat": float(d.max_rhat),
    }


def retry_fit(first, call: dict[str, Any], *, max_retries: int = len(TARGET_ACCEPT_STEPS)):
    """Retry a failed fit with safer settings; return the chosen fit with ``meta["retries"]``.

    Parameters
    ----------
    first
        The fit made with the user's settings.
    call
        The keyword arguments of :func:`bayesmixed.fit` that produced it (``seed`` concrete).
    max_retries
        How many refits at most.

    Returns
    -------
    Fit
        ``meta["retries"]`` lists every attempt (the first fit is attempt 0) and
        ``meta["retry_chosen"]`` the attempt returned.

    Examples
    --------
    Normally reached through ``bm.fit(..., auto_retry=True)``. With ``max_retries=0`` it only
    records the first attempt:

    >>> import copy
    >>> first = copy.copy(fit)
    >>> first.meta = dict(fit.meta)
    >>> chosen = retry_fit(first, {"target_accept": 0.8}, max_retries=0)
    >>> chosen is first, chosen.meta["retry_chosen"], len(chosen.meta["retries"])
    (True, 0, 1)
    """
    from bayesmixed.api import fit as _fit

    fits = [first]
    records = [_record(first, 0, call["target_accept"], [], [])]
    switched: set[str] = set()
    current = first
    target_accept = float(call["target_accept"])
    for attempt in range(1, max_retries + 1):
        if current.diagnostics().verdict != "fail":
            break
        found = triage(current.idata, current.meta)
        centered = _centered(current)
        changes = []
        higher = [t for t in TARGET_ACCEPT_STEPS if t > target_accept]
        if higher:
            changes.append(f"target_accept {target_accept:g} -> {higher[0]:g}")
            target_accept = higher[0]
        for factor in found.factors:
            if factor in centered and factor not in switched:
                # a partially centered factor goes to the form without a funnel
                centered[factor] = False if centered[factor] == "partial" else not centered[factor]
                switched.add(factor)
                kind = "centered" if centered[factor] else "non-centered"
                changes.append(f"{factor!r} switched to {kind} (implicated by the triage)")
        if not changes:
            break  # nothing left to try
        seed = None if call.get("seed") is None else int(call["seed"]) + attempt
        current = _fit(
            **{
                **call,
                "target_accept": target_accept,
                "centered": centered,
                "seed": seed,
                "auto_retry": False,
            }
        )
        fits.append(current)
        records.append(_record(current, attempt, target_accept, changes, found.factors))
    ok = [k for k, r in enumerate(records) if r["verdict"] != "fail"]
    chosen = (
        ok[0]
        if ok
        else min(
            range(len(records)), key=lambda k: (records[k]["divergences"], records[k]["max_rhat"])
        )
    )
    result = fits[chosen]
    result.meta["retries"] = records
    result.meta["retry_chosen"] = chosen
    if not ok:
        result.meta.setdefault("warnings", []).append(
            f"auto_retry: all {len(records)} attempts failed the diagnostics; returned attempt "
            f"{chosen} (fewest divergences)"
        )
    return result
