"""``bm.fit(..., auto_retry=True)``: refit when the diagnostics verdict is "fail".

Each retry raises ``target_accept`` (to 0.95, then 0.99) and switches the parameterization
(centered <-> non-centered; partially centered -> non-centered) of the grouping factors that
the divergence / R-hat triage (:mod:`bayesmixed.report.tables.triage`) implicates -- once per factor,
so a switch that did not help is not undone and redone. Every attempt is recorded in
``fit.meta["retries"]``: its settings, what changed and why, and its verdict. The first
attempt that does not fail is returned; if all fail, the one with the fewest divergences
(then lowest R-hat), flagged as such.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bayesmixed.report.tables.triage import triage

__all__ = ["TARGET_ACCEPT_STEPS", "Attempt", "RetryPolicy"]

#: target_accept used by successive retries (never lowered below the user's value)
TARGET_ACCEPT_STEPS = (0.95, 0.99)


def _centered(fit) -> dict[str, bool | str]:
    """Per factor: True, False or "partial" (what ``centered=`` takes to rebuild it)."""
    return {
        f: "partial" if v.get("partial") else bool(v["centered"])
        for f, v in fit.meta["parameterization"].items()
    }


@dataclass
class Attempt:
    """The settings of one retry, and why.

    Examples
    --------
    >>> Attempt(1, 0.95, {"g": True}, ["target_accept 0.8 -> 0.95"]).number
    1
    """

    number: int
    target_accept: float
    centered: dict[str, bool | str]
    changes: list[str]
    implicated: list[str] = field(default_factory=list)


def _record(fit, attempt: Attempt) -> dict[str, Any]:
    d = fit.diagnostics()
    return {
        "attempt": attempt.number,
        "target_accept": float(attempt.target_accept),
        "centered": _centered(fit),
        "seed": fit.config.get("seed"),
        "adaptation": fit.meta.get("sampler_run", {}).get("adaptation")  # what "auto" chose
        or fit.config.get("adaptation", "diag"),
        "changes": attempt.changes,
        "implicated": attempt.implicated,
        "verdict": d.verdict,
        "divergences": int(d.divergences),
        "max_rhat": float(d.max_rhat),
    }


class RetryPolicy:
    """What to try after a failed fit; the fit loop of :func:`bayesmixed.fit` runs it.

    The loop asks :meth:`next_attempt` for the settings of the next refit (``None``: stop),
    fits with them and hands the fit back with :meth:`add`; :meth:`chosen` returns the fit
    to keep, with ``meta["retries"]`` (every attempt; the first fit is attempt 0) and
    ``meta["retry_chosen"]`` (the attempt returned). The policy never fits anything itself.

    Parameters
    ----------
    first
        The fit made with the user's settings.
    max_retries
        How many refits at most.

    Examples
    --------
    With ``max_retries=0`` it only records the first attempt:

    >>> import copy
    >>> first = copy.copy(fit)
    >>> first.meta = dict(fit.meta)
    >>> policy = RetryPolicy(first, max_retries=0)
    >>> policy.next_attempt() is None
    True
    >>> chosen = policy.chosen()
    >>> chosen is first, chosen.meta["retry_chosen"], len(chosen.meta["retries"])
    (True, 0, 1)
    """

    def __init__(self, first, *, max_retries: int = len(TARGET_ACCEPT_STEPS)) -> None:
        self.max_retries = max_retries
        self.target_accept = float(first.config.get("target_accept", 0.8))
        self.fits = [first]
        self.records = [_record(first, Attempt(0, self.target_accept, _centered(first), []))]
        self._switched: set[str] = set()

    def next_attempt(self) -> Attempt | None:
        """Settings of the next refit, or ``None`` when the last fit passed or nothing is left.

        Each retry raises ``target_accept`` to the next of :data:`TARGET_ACCEPT_STEPS` and
        switches the parameterization of the factors the triage implicates (once per factor).
        """
        number = len(self.fits)
        current = self.fits[-1]
        if number > self.max_retries or current.diagnostics().verdict != "fail":
            return None
        found = triage(current.base_idata, current.meta)
        centered = _centered(current)
        changes = []
        target_accept = self.target_accept
        higher = [t for t in TARGET_ACCEPT_STEPS if t > target_accept]
        if higher:
            changes.append(f"target_accept {target_accept:g} -> {higher[0]:g}")
            target_accept = higher[0]
        switched = set(self._switched)
        for factor in found.factors:
            if factor in centered and factor not in switched:
                # a partially centered factor goes to the form without a funnel
                centered[factor] = False if centered[factor] == "partial" else not centered[factor]
                switched.add(factor)
                kind = "centered" if centered[factor] else "non-centered"
                changes.append(f"{factor!r} switched to {kind} (implicated by the triage)")
        if not changes:
            return None  # nothing left to try
        return Attempt(number, target_accept, centered, changes, list(found.factors))

    def add(self, fit, attempt: Attempt) -> None:
        """Record the fit made with the settings of ``attempt``."""
        self.target_accept = attempt.target_accept
        self._switched.update(f for f in attempt.implicated if f in attempt.centered)
        self.fits.append(fit)
        self.records.append(_record(fit, attempt))

    def chosen(self):
        """The first attempt that does not fail, else the one with the fewest divergences
        (then lowest R-hat), flagged in its ``meta["warnings"]``."""
        records = self.records
        ok = [k for k, r in enumerate(records) if r["verdict"] != "fail"]
        chosen = (
            ok[0]
            if ok
            else min(
                range(len(records)),
                key=lambda k: (records[k]["divergences"], records[k]["max_rhat"]),
            )
        )
        result = self.fits[chosen]
        result.meta["retries"] = records
        result.meta["retry_chosen"] = chosen
        if not ok:
            result.meta.setdefault("warnings", []).append(
                f"auto_retry: all {len(records)} attempts failed the diagnostics; returned "
                f"attempt {chosen} (fewest divergences)"
            )
        return result
