"""lme4-style formulas -> :class:`~bayesmixed.formula.terms.ModelSpec`.

A three-stage pipeline, after formulae's scanner -> parser -> resolver:

1. :func:`split_top_level` scans a string into pieces at top-level operators, respecting
   parentheses, brackets and quotes.
2. :func:`parse_formula` parses the pieces: the response (plain, ``cbind(s, f)``,
   ``s | trials(n)``, ``y | se(s)``), random-effects blocks ``(expr | g)`` / ``(expr || g)``,
   ``offset(...)`` and the population-level rest.
3. Random-effects blocks are resolved: nested factors ``a/b`` expand to ``a`` and ``a:b``;
   uncorrelated blocks stay one block flagged ``correlated=False``. The population-level part
   is checked with formulae's own parser so syntax errors surface here, named.
"""

from __future__ import annotations

import re

import formulae as fm

from bayesmixed.errors import FormulaError
from bayesmixed.formula.ar_term import ar_from_args
from bayesmixed.formula.terms import ARTerm, GroupTerm, ModelSpec, Response

__all__ = ["bf", "expand_factor", "parse_dpar", "parse_formula", "split_top_level"]

_OPEN, _CLOSE = "([{", ")]}"


def split_top_level(text: str, seps: str) -> list[tuple[str, str]]:
    """Split ``text`` at top-level single-character separators.

    Parameters
    ----------
    text
        The string to split.
    seps
        Separator characters (for example ``"+-"``).

    Returns
    -------
    list of (separator, piece)
        Each piece with the separator that preceded it (``""`` for the first).

    Examples
    --------
    >>> split_top_level("x + I(a - b) - 1", "+-")
    [('', 'x'), ('+', 'I(a - b)'), ('-', '1')]
    """
    out: list[tuple[str, str]] = []
    depth, quote, start, sep = 0, "", 0, ""
    i = 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth -= 1
            if depth < 0:
                raise FormulaError(f"unbalanced ')' at position {i} in {text!r}")
        elif depth == 0 and ch in seps and not _is_exponent_sign(text, i):
            out.append((sep, text[start:i].strip()))
            sep, start = ch, i + 1
        i += 1
    if depth != 0:
        raise FormulaError(f"unbalanced parentheses in {text!r}")
    if quote:
        raise FormulaError(f"unterminated string in {text!r}")
    out.append((sep, text[start:].strip()))
    return out


def _is_exponent_sign(text: str, i: int) -> bool:
    """True for the sign in a number like ``1e-3``."""
    return text[i] in "+-" and re.search(r"\d[eE]$", text[:i]) is not None


def _outer_call(piece: str, names: tuple[str, ...]) -> tuple[str, str] | None:
    """If ``piece`` is exactly ``name(args)`` for one of ``names``, return (name, args)."""
    m = re.match(r"^\s*([A-Za-z_][A-Za-z_0-9.]*)\s*\((.*)\)\s*$", piece, re.S)
    if not m or m.group(1) not in names:
        return None
    # the final ')' must close the first '('
    if len(split_top_level(m.group(2), ",")) >= 1 and _balanced(m.group(2)):
        return m.group(1), m.group(2).strip()
    return None


def _balanced(s: str) -> bool:
    try:
        split_top_level(s, "")
    except FormulaError:
        return False
    return True


def _parse_response(lhs: str) -> Response:
    lhs = lhs.strip()
    if not lhs:
        raise FormulaError("the formula has no response on the left of '~'")
    bars = split_top_level(lhs, "|")
    if len(bars) == 2:
        call = _outer_call(bars[1][1], ("trials", "se"))
        if call is None:
            raise FormulaError(
                f"cannot read response {lhs!r}: after '|' write trials(n), as in 's | trials(n)', "
                "or se(s), as in 'y | se(s)'"
            )
        if call[0] == "se":
            args = [a for _, a in split_top_level(call[1], ",")]
            if len(args) != 1 or not args[0]:
                raise FormulaError(
                    f"se() takes one column of standard errors, as in 'y | se(s)'; got {lhs!r} "
                    "(brms's sigma = TRUE option is not supported)")
            return Response(bars[0][1], "se", args[0])
        return Response(bars[0][1], call[0], call[1])
    call = _outer_call(lhs, ("cbind", "p", "prop"))
    if call is not None:
        args = [a for _, a in split_top_level(call[1], ",")]
        if len(args) != 2 or not all(args):
            raise FormulaError(f"{call[0]}() in the response needs exactly two arguments: {lhs!r}")
        if call[0] == "cbind":
            return Response(args[0], "cbind", args[1])
        return Response(args[0], "trials", args[1])
    return Response(lhs)


def expand_factor(factor: str) -> list[str]:
    """Expand a grouping-factor expression into factors.

    ``a/b/c`` (nested) gives ``a``, ``a:b``, ``a:b:c``; ``a:b`` (interaction) stays one factor;
    ``a + b`` is not allowed inside a block.

    Examples
    --------
    >>> expand_factor("batch/cask")
    ['batch', 'batch:cask']
    """
    text = factor.strip()
    if not text:
        raise FormulaError("a random-effects block has no grouping factor after '|'")
    if re.search(r"[+*()\-]", text):
        raise FormulaError(
            f"grouping factor {text!r} is not supported: use a column, a:b (interaction) or a/b "
            "(nested)"
        )
    parts = [p.strip() for p in text.split("/")]
    if any(not p for p in parts):
        raise FormulaError(f"empty name in nested grouping factor {text!r}")
    out = []
    for k in range(1, len(parts) + 1):
        cols = ":".join(parts[:k]).split(":")
        out.append(":".join(c.strip() for c in cols))
    for f in out:
        for c in f.split(":"):
            if not re.match(r"^[A-Za-z_][A-Za-z_0-9.]*$", c):
                raise FormulaError(f"grouping factor {c!r} in {text!r} is not a column name")
    return out


def _parse_block(inner: str) -> list[GroupTerm]:
    pieces = split_top_level(inner, "|")
    if len(pieces) == 3 and pieces[1][1] == "":  # '||' splits into expr, '', factor
        expr, factor, correlated = pieces[0][1], pieces[2][1], False
    elif len(pieces) == 2:
        expr, factor, correlated = pieces[0][1], pieces[1][1], True
    else:
        raise FormulaError(f"cannot read random-effects block ({inner})")
    expr = _explicit_intercept(expr.strip() or "1")
    _check_rhs(expr, f"({inner})")
    return [GroupTerm(f, expr, correlated) for f in expand_factor(factor)]


def _explicit_intercept(expr: str) -> str:
    """Write the implicit intercept of a varying-terms expression: ``x`` -> ``1 + x``."""
    terms = [piece for _, piece in split_top_level(expr, "+-")]
    if any(t in ("0", "1", "-1") for t in terms) or expr.replace(" ", "").startswith("-1"):
        return expr
    return f"1 + {expr}"


def _check_rhs(rhs: str, where: str) -> None:
    """Let formulae's parser check a right-hand side, turning its errors into FormulaError."""
    try:
        fm.model_description(rhs)
    except Exception as exc:  # formulae raises several exception types
        raise FormulaError(f"cannot parse {where!r}: {exc}") from None


def parse_formula(
    formula: str,
    family: str = "gaussian",
    link: str | None = None,
) -> ModelSpec:
    """Parse an lme4-style formula into a :class:`ModelSpec`.

    Parameters
    ----------
    formula
        For example ``"y ~ x + treatment + (1 + x | school)"``. Supported: numeric and
        categorical predictors, interactions, ``I()`` and function transforms, ``0 +``/``- 1``,
        ``(1 | g)``, ``(x | g)``, ``(x || g)``, ``(1 | a/b)``, ``(1 | a:b)``, crossed blocks,
        ``cbind(s, f)`` and ``s | trials(n)`` responses, ``offset(expr)``, autocorrelated
        residuals ``ar(time = t, gr = g)`` (:mod:`bayesmixed.formula.ar_term`).
    family, link
        Stored in the spec; checked later against the data.

    Returns
    -------
    ModelSpec

    Examples
    --------
    >>> spec = parse_formula("y ~ x + (1 + x | school) + (1 | item)")
    >>> [str(g) for g in spec.groups]
    ['(1 + x | school)', '(1 | item)']
    >>> parse_formula("cbind(s, n - s) ~ period + (1 | herd)").response.kind
    'cbind'
    """
    if not isinstance(formula, str):
        raise FormulaError(f"formula must be a string, got {type(formula).__name__}")
    sides = split_top_level(formula, "~")
    if len(sides) != 2:
        raise FormulaError(
            f"a formula needs exactly one '~' between response and terms: {formula!r}"
        )
    response = _parse_response(sides[0][1])
    rhs = sides[1][1]
    if not rhs:
        raise FormulaError(f"the formula has no terms on the right of '~': {formula!r}")

    fixed: list[str] = []
    groups: list[GroupTerm] = []
    offsets: list[str] = []
    ar: list[ARTerm] = []
    pieces = split_top_level(rhs, "+-")
    if len(pieces) > 1 and pieces[0] == ("", ""):  # a leading sign, as in '~ -1 + x'
        pieces = pieces[1:]
    for sign, piece in pieces:
        if not piece:
            raise FormulaError(f"empty term (a dangling '{sign or '+'}') in {formula!r}")
        inner = piece[1:-1] if piece.startswith("(") and piece.endswith(")") else None
        if inner is not None and _balanced(inner) and len(split_top_level(inner, "|")) > 1:
            if sign == "-":
                raise FormulaError(f"cannot subtract a random-effects block: -{piece}")
            groups.extend(_parse_block(inner))
            continue
        call = _outer_call(piece, ("offset",))
        if call is not None:
            if sign == "-":
                raise FormulaError(f"cannot subtract an offset: -{piece}")
            offsets.append(call[1])
            continue
        call = _outer_call(piece, ("ar",))
        if call is not None:
            if sign == "-" or ar:
                raise FormulaError(f"ar() may appear once, added: {formula!r}")
            ar.append(ar_from_args([a for _, a in split_top_level(call[1], ",")], piece))
            continue
        if "|" in piece:
            raise FormulaError(f"a random-effects block must be in parentheses: {piece!r}")
        fixed.append(f"{sign} {piece}" if sign else piece)
    fixed_rhs = _join_fixed(fixed)
    _check_rhs(fixed_rhs, fixed_rhs)
    seen = set()
    for g in groups:
        key = (g.factor, g.expr)
        if key in seen:
            raise FormulaError(f"random-effects block {g} appears twice")
        seen.add(key)
    offset = " + ".join(f"({o})" for o in offsets) if len(offsets) > 1 else (offsets or [None])[0]
    return ModelSpec(
        response=response,
        fixed=fixed_rhs,
        groups=tuple(groups),
        family=family,
        link=link,
        offset=offset,
        ar=ar[0] if ar else None,
    )


def _join_fixed(pieces: list[str]) -> str:
    if not pieces:
        return "1"
    text = " ".join(
        p if i == 0 or p.startswith(("+", "-")) else f"+ {p}" for i, p in enumerate(pieces)
    )
    text = text.lstrip("+ ").strip()
    if text.startswith("-"):
        text = "1 " + text
    return text


def parse_dpar(name: str, formula: str) -> str:
    """Right-hand side of a distributional-parameter formula (``"~ x"``, ``"x"`` or ``"1"``).

    Population-level terms only: a random-effects block or an offset raises
    :class:`FormulaError` naming the term.

    Examples
    --------
    >>> parse_dpar("zi", "~ x + z")
    'x + z'
    >>> parse_dpar("hu", "1")
    '1'
    """
    if not isinstance(formula, str) or not formula.strip():
        raise FormulaError(f"the {name} formula must be a non-empty string like '~ x', got {formula!r}")
    text = formula.strip()
    sides = split_top_level(text, "~")
    if len(sides) == 2:
        if sides[0][1]:
            raise FormulaError(
                f"the {name} formula has no response: write '~ {sides[1][1]}', not {formula!r}"
            )
        text = sides[1][1]
    elif len(sides) > 2:
        raise FormulaError(f"the {name} formula has more than one '~': {formula!r}")
    spec = parse_formula(f"y__ ~ {text}")
    if spec.groups:
        raise FormulaError(
            f"random effects in the {name} formula are not supported yet: {spec.groups[0]} "
            f"(give the {name} part population-level terms only)"
        )
    if spec.offset:
        raise FormulaError(f"offsets in the {name} formula are not supported: offset({spec.offset})")
    if spec.ar:
        raise FormulaError(f"{spec.ar} in the {name} formula is not supported")
    return spec.fixed


def bf(
    formula: str,
    *,
    zi: str | None = None,
    hu: str | None = None,
    family: str = "gaussian",
    link: str | None = None,
) -> ModelSpec:
    """A model with formulas for its distributional parameters, brms-style.

    Parameters
    ----------
    formula
        The main (count part) formula, e.g. ``"y ~ x + (1 | g)"``.
    zi, hu
        Formula of the zero-inflation probability (``zero_inflated_*`` families) or of the
        hurdle probability (``hurdle_*`` families), logit link, e.g. ``"~ x"``; default
        intercept-only. Population-level terms only.
    family, link
        As for :func:`parse_formula` (usually given to :func:`bayesmixed.fit` instead).

    Returns
    -------
    ModelSpec

    Examples
    --------
    >>> spec = bf("y ~ x + (1 | g)", zi="~ x")
    >>> spec.dpars, spec.dpar_formula("zi"), spec.dpar_formula("hu")
    ((('zi', 'x'),), 'x', '1')
    """
    spec = parse_formula(formula, family, link)
    dpars = tuple((k, parse_dpar(k, v)) for k, v in (("zi", zi), ("hu", hu)) if v is not None)
    return spec.with_options(dpars=dpars)
