"""Hypothesis tests on the posterior, the brms way (``brms::hypothesis``).

A hypothesis is one comparison of two expressions of the parameters as they are named in the
summary (``Days``, ``btype[scold]``, ``sd(Intercept|Subject)``, ``sigma``):
``"x > 0"``, ``"btype[scold] - btype[shout] = 0"``, ``"2 * a < b + 1"``. The difference
``lhs - rhs`` is computed draw by draw and summarized:

* estimate, est_error (posterior mean and sd of ``lhs - rhs``) and a central interval;
* one-sided hypotheses (``<``, ``>``): the posterior probability ``p`` of the hypothesis and
  the evidence ratio ``p / (1 - p)`` (the posterior odds of the hypothesis);
* point hypotheses (``=``): the Savage-Dickey density ratio
  ``BF01 = p(lhs - rhs = 0 | y) / p(lhs - rhs = 0)`` (Dickey 1971; Wagenmakers et al. 2010),
  posterior over prior density at the point, both estimated by a Gaussian kernel density
  estimate of draws (prior draws come from the same model); ``post_prob`` is
  ``BF01 / (1 + BF01)`` (equal prior odds), as in brms;
* with ``rope=(lo, hi)``: the share of posterior draws of ``lhs - rhs`` in the region of
  practical equivalence.

Accuracy of the Savage-Dickey ratio: a kernel density estimate is reliable where draws are
plentiful. When the point lies in the far tail of the posterior (or prior), the estimate is
dominated by a handful of draws and the bandwidth, so a huge or tiny Bayes factor is known
only in order of magnitude; the ``note`` column says so when fewer than 1% of the draws lie
beyond the point. At a boundary of the support (``sd(...) = 0``) the plain estimate is halved;
the boundary is then reflected (the density is doubled) and ``note`` says so.

The expression is parsed with :mod:`ast`; only parameter names, numbers, ``+ - * /``, unary
minus and one comparison are accepted, and nothing is evaluated by Python.
"""

from __future__ import annotations

import ast
import difflib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr
from scipy.stats import gaussian_kde

from bayesmixed.errors import BayesmixedError
from bayesmixed.report.core.params import parameter_dataset

__all__ = ["Hypothesis", "HypothesisError", "hypothesis_table", "parse_hypothesis"]

_OPS = {ast.Lt: "<", ast.Gt: ">", ast.Eq: "="}
_BINOPS = {ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply, ast.Div: np.divide}
_TAIL = 0.01  # share of draws beyond the point under which the KDE is flagged as unreliable


class HypothesisError(BayesmixedError):
    """A hypothesis that cannot be parsed or refers to unknown parameters.

    Examples
    --------
    >>> parse_hypothesis("y > 0", ["x"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    bayesmixed.report.compare.hypothesis.HypothesisError: ...
    """


@dataclass(frozen=True)
class Hypothesis:
    """A parsed hypothesis ``lhs OP rhs``.

    Attributes
    ----------
    text : str
        The hypothesis as written.
    op : str
        ``"<"``, ``">"`` or ``"="``.
    lhs, rhs : ast.expr
        Syntax trees of both sides, parameter names replaced by ``_p0_``, ``_p1_``, ...
    names : tuple of str
        Parameter name of each placeholder, in placeholder order.

    Examples
    --------
    >>> h = parse_hypothesis("x - 2 * z > 0", ["x", "z"])
    >>> h.op, h.names
    ('>', ('x', 'z'))
    >>> h.evaluate({"x": np.array([3.0]), "z": np.array([1.0])}).tolist()
    [1.0]
    """

    text: str
    op: str
    lhs: ast.expr
    rhs: ast.expr
    names: tuple[str, ...]

    def evaluate(self, values: dict[str, np.ndarray]) -> np.ndarray:
        """Draws of ``lhs - rhs`` from parameter draws ``values`` (name -> array).

        Examples
        --------
        >>> h = parse_hypothesis("2 * a - b[x] = 1", ["a", "b[x]"])
        >>> h.evaluate({"a": np.array([1.0, 2.0]), "b[x]": np.array([0.0, 1.0])}).tolist()
        [1.0, 2.0]
        """
        return np.asarray(self._eval(self.lhs, values) - self._eval(self.rhs, values),
                          dtype=float)

    def _eval(self, node: ast.expr, values: dict[str, np.ndarray]):
        if isinstance(node, ast.Constant):
            return float(node.value)
        if isinstance(node, ast.Name):
            return np.asarray(values[self.names[int(node.id[2:-1])]], dtype=float)
        if isinstance(node, ast.UnaryOp):
            inner = self._eval(node.operand, values)
            return -inner if isinstance(node.op, ast.USub) else inner
        if isinstance(node, ast.BinOp):
            fn = _BINOPS[type(node.op)]
            return fn(self._eval(node.left, values), self._eval(node.right, values))
        raise HypothesisError(f"unsupported expression in {self.text!r}")  # pragma: no cover


def _check(node: ast.AST, text: str, n_names: int) -> None:
    """Accept only numbers, placeholders, + - * / and unary +/-."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Constant):
            if isinstance(sub.value, bool) or not isinstance(sub.value, int | float):
                raise HypothesisError(f"only numbers are allowed as constants in {text!r}")
        elif isinstance(sub, ast.Name):
            m = re.fullmatch(r"_p(\d+)_", sub.id)
            if m is None or int(m.group(1)) >= n_names:
                raise HypothesisError(f"unknown parameter {sub.id!r} in {text!r}")
        elif isinstance(sub, ast.BinOp):
            if type(sub.op) not in _BINOPS:
                raise HypothesisError(f"only + - * / are allowed in {text!r}")
        elif isinstance(sub, ast.UnaryOp):
            if not isinstance(sub.op, ast.USub | ast.UAdd):
                raise HypothesisError(f"only unary minus is allowed in {text!r}")
        elif not isinstance(sub, ast.operator | ast.unaryop | ast.expr_context):
            raise HypothesisError(
                f"{type(sub).__name__} is not allowed in {text!r}: use parameter names, "
                "numbers, + - * / and one comparison < > =")


def parse_hypothesis(text: str, names: Sequence[str]) -> Hypothesis:
    """Parse ``text`` (``"lhs < rhs"``, ``"lhs > rhs"`` or ``"lhs = rhs"``) safely.

    Parameters
    ----------
    text
        The hypothesis.
    names
        The parameter names it may use (the summary's row names); names with brackets,
        parentheses, commas or ``|`` are matched literally, the longest first.

    Returns
    -------
    Hypothesis

    Raises
    ------
    HypothesisError
        Not exactly one comparison, an unknown name, or anything besides numbers and
        ``+ - * /``.

    Examples
    --------
    >>> h = parse_hypothesis("sd(Intercept|g) - 2 > 0", ["sd(Intercept|g)", "x"])
    >>> h.op, h.names
    ('>', ('sd(Intercept|g)',))
    >>> parse_hypothesis("__import__('os') = 0", ["x"])
    Traceback (most recent call last):
    ...
    bayesmixed.report.compare.hypothesis.HypothesisError: unknown name '__import__' in "__import__('os') = 0"...
    """
    if not isinstance(text, str) or not text.strip():
        raise HypothesisError("a hypothesis must be a non-empty string such as 'x > 0'")
    src, used = text, []
    for name in sorted(dict.fromkeys(names), key=len, reverse=True):
        pattern = r"(?<![\w.])" + re.escape(name) + r"(?![\w.])"
        if re.search(pattern, src):
            src = re.sub(pattern, f" _p{len(used)}_ ", src)
            used.append(name)
    src = re.sub(r"(?<![<>=!])=(?!=)", "==", src)  # brms writes "=" for equality
    try:
        tree = ast.parse(src.strip(), mode="eval").body
    except SyntaxError:
        raise HypothesisError(f"cannot parse the hypothesis {text!r}") from None
    if not (isinstance(tree, ast.Compare) and len(tree.ops) == 1
            and type(tree.ops[0]) in _OPS):
        raise HypothesisError(
            f"the hypothesis {text!r} needs exactly one comparison: <, > or =")
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and not re.fullmatch(r"_p\d+_", node.id):
            close = difflib.get_close_matches(node.id, list(names), n=3)
            hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
            raise HypothesisError(
                f"unknown name {node.id!r} in {text!r}{hint} (known: {', '.join(names)})")
    lhs, rhs = tree.left, tree.comparators[0]
    _check(lhs, text, len(used))
    _check(rhs, text, len(used))
    return Hypothesis(text.strip(), _OPS[type(tree.ops[0])], lhs, rhs, tuple(used))


def _draws(ds: xr.Dataset, names: Sequence[str]) -> dict[str, np.ndarray]:
    return {n: np.asarray(ds[n].values, dtype=float).reshape(-1) for n in names}


def density_at(draws: np.ndarray, point: float = 0.0) -> tuple[float, str]:
    """Gaussian-KDE density of ``draws`` at ``point``, with a note on its reliability.

    At a boundary of the draws' support (every draw on one side of ``point``) the density is
    reflected (doubled), which removes the halving bias of a plain KDE at a boundary.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> round(density_at(rng.normal(size=20000))[0], 1)  # 1 / sqrt(2 pi) = 0.399
    0.4
    >>> round(density_at(np.abs(rng.normal(size=20000)))[0], 1)  # half-normal: 0.798
    0.8
    """
    x = np.asarray(draws, dtype=float)
    x = x[np.isfinite(x)]
    if x.size < 2 or np.ptp(x) == 0:
        return float("nan"), "too few distinct draws for a density"
    dens = float(gaussian_kde(x)(point)[0])
    below = float(np.mean(x < point))
    note = ""
    if below in (0.0, 1.0):
        near = float(np.mean(np.abs(x - point) < x.std()))
        dens = 2 * dens
        note = ("boundary: reflected density" if near >= _TAIL
                else "point beyond all draws: density ratio unreliable")
    elif min(below, 1 - below) < _TAIL:
        note = "point in the tail: density ratio unreliable"
    return dens, note


def hypothesis_table(
    idata,
    meta: dict,
    hypotheses: Sequence[str],
    *,
    prob: float = 0.95,
    rope: tuple[float, float] | None = None,
    prior: Callable[[], xr.Dataset] | xr.Dataset | None = None,
) -> pd.DataFrame:
    """Evaluate hypotheses about the parameters of a fit.

    Parameters
    ----------
    idata
        DataTree with a ``posterior`` group.
    meta
        The fit's model description.
    hypotheses
        Strings such as ``"x > 0"`` or ``"a - b = 0"`` (see :func:`parse_hypothesis`).
    prob
        Probability of the central interval of ``lhs - rhs``.
    rope
        ``(low, high)``: add the column ``rope``, the posterior share of ``lhs - rhs`` inside.
    prior
        Prior draws of the same model (a ``prior`` group as from
        ``pymc.sample_prior_predictive``), or a callable returning them, called only when a
        point hypothesis needs them. Without it, point hypotheses get no Bayes factor.

    Returns
    -------
    pandas.DataFrame
        One row per hypothesis (index: the hypothesis): estimate, est_error, the interval,
        evid_ratio, post_prob, ``rope`` (if asked), star (``*`` when the interval excludes
        zero for ``=``, or ``post_prob > prob`` for one-sided, as brms) and note.

    Examples
    --------
    >>> table = hypothesis_table(fit.idata, fit.meta, ["Days > 0"])
    >>> float(table.loc["Days > 0", "post_prob"])
    1.0
    """
    if not 0 < prob < 1:
        raise HypothesisError(f"prob must lie strictly between 0 and 1, got {prob}")
    if rope is not None:
        lo_r, hi_r = (float(v) for v in rope)
        if not lo_r < hi_r:
            raise HypothesisError(f"rope must be (low, high) with low < high, got {rope}")
    post = parameter_dataset(idata, meta)
    names = list(post.data_vars)
    parsed = [parse_hypothesis(h, names) for h in hypotheses]
    prior_ds = None
    if any(h.op == "=" for h in parsed) and prior is not None:
        prior_ds = prior() if callable(prior) else prior
        prior_ds = parameter_dataset(xr.DataTree.from_dict({"posterior": prior_ds}), meta)
    lo, hi = (1 - prob) / 2, 1 - (1 - prob) / 2
    rows = {}
    for h in parsed:
        d = h.evaluate(_draws(post, h.names))
        row = {
            "estimate": d.mean(),
            "est_error": d.std(ddof=1),
            f"{100 * lo:g}%": np.quantile(d, lo),
            f"{100 * hi:g}%": np.quantile(d, hi),
        }
        note = ""
        if h.op == "=":
            if prior_ds is None:
                er, note = np.nan, "no prior draws: no Bayes factor"
            else:
                d_post, n1 = density_at(d)
                d_prior, n2 = density_at(h.evaluate(_draws(prior_ds, h.names)))
                er = d_post / d_prior if d_prior > 0 else np.nan
                note = "; ".join(f"{w}: {n}" for w, n in (("posterior", n1), ("prior", n2)) if n)
            pp = er / (1 + er) if np.isfinite(er) else (1.0 if er == np.inf else np.nan)
            star = not (row[f"{100 * lo:g}%"] <= 0 <= row[f"{100 * hi:g}%"])
        else:
            pp = float(np.mean(d > 0) if h.op == ">" else np.mean(d < 0))
            er = pp / (1 - pp) if pp < 1 else np.inf
            star = pp > prob
        row.update(evid_ratio=er, post_prob=pp)
        if rope is not None:
            row["rope"] = float(np.mean((d >= lo_r) & (d <= hi_r)))
        row.update(star="*" if star else "", note=note)
        rows[h.text] = row
    table = pd.DataFrame.from_dict(rows, orient="index").rename_axis("hypothesis")
    table.attrs.update(prob=prob, rope=None if rope is None else (lo_r, hi_r))
    return table
