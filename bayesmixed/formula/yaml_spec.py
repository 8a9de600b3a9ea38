"""Hierarchical (dict / YAML) model specs, equivalent to formulas.

A spec file lists the response, the family and link, the population-level terms and one entry
per grouping factor::

    response: use                      # or {successes: s, failures: f} / {successes: s, trials: n}
    family: bernoulli
    link: logit                        # optional
    fixed: age + I(age**2) + urban     # formulae syntax; default "1"
    offset: log(exposure)              # optional
    zi: ~ x                            # zero-inflation formula (hu: for hurdle families)
    ar: {time: t, gr: subject}         # AR(1) residuals within series (formula: ar(t, subject))
    groups:
      - factor: district               # a column, a:b (interaction) or a/b (nested)
        intercept: true                # default true
        slopes: [urban]                # default none
        correlated: true               # default true
        centered: auto                 # true / false / partial / auto
    priors:
      b: normal(0, 2.5)
      sd(district): {dist: HalfNormal, sigma: 1}

A ``formula:`` entry may stand in for ``response``/``fixed``/``offset``/``groups``.
Library entries may carry ``name``, ``title``, ``description``, ``data`` and ``reference``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from bayesmixed.errors import FormulaError, SpecError
from bayesmixed.formula.ar_term import ar_from_dict
from bayesmixed.formula.parse import expand_factor, parse_dpar, parse_formula, split_top_level
from bayesmixed.formula.priors import as_prior
from bayesmixed.formula.terms import GroupTerm, ModelSpec, Response

__all__ = ["load_spec", "spec_from_dict", "spec_to_dict"]

_MODEL_KEYS = {
    "response", "family", "link", "fixed", "offset", "groups", "priors", "formula", "zi", "hu",
    "ar",
}
_META_KEYS = {
    "name",
    "title",
    "description",
    "data",
    "reference",
    "references",
    "notes",
    "source",
    "teaching",
    "sampler",
}


def _response(value: Any) -> Response:
    if isinstance(value, str):
        return parse_formula(f"{value} ~ 1").response
    if isinstance(value, Mapping):
        keys = set(value)
        if keys == {"successes", "failures"}:
            return Response(str(value["successes"]), "cbind", str(value["failures"]))
        if keys == {"successes", "trials"}:
            return Response(str(value["successes"]), "trials", str(value["trials"]))
        if keys == {"value", "se"}:
            return Response(str(value["value"]), "se", str(value["se"]))
    raise SpecError(
        f"response must be a column/expression or {{successes, failures}} or {{successes, trials}}, "
        f"got {value!r}"
    )


def _group_entries(entry: Any, i: int) -> tuple[list[GroupTerm], dict[str, Any]]:
    if not isinstance(entry, Mapping) or "factor" not in entry:
        raise SpecError(f"groups[{i}] must be a mapping with a 'factor' entry, got {entry!r}")
    unknown = set(entry) - {"factor", "intercept", "slopes", "correlated", "centered"}
    if unknown:
        raise SpecError(f"groups[{i}] has unknown key {sorted(unknown)[0]!r}")
    slopes = entry.get("slopes") or []
    if isinstance(slopes, str):
        slopes = [slopes]
    intercept = entry.get("intercept", True)
    if not isinstance(intercept, bool):
        raise SpecError(f"groups[{i}].intercept must be true or false, got {intercept!r}")
    terms = (["1"] if intercept else ["0"]) + [str(s) for s in slopes]
    if terms == ["0"]:
        raise SpecError(f"groups[{i}] ({entry['factor']}) has neither an intercept nor slopes")
    correlated = entry.get("correlated", True)
    if not isinstance(correlated, bool):
        raise SpecError(f"groups[{i}].correlated must be true or false, got {correlated!r}")
    factors = expand_factor(str(entry["factor"]))
    groups = [GroupTerm(f, " + ".join(terms), correlated) for f in factors]
    centered = {}
    if "centered" in entry:
        c = entry["centered"]
        if c not in (True, False, "auto", "partial"):
            raise SpecError(
                f"groups[{i}].centered must be true, false, partial or auto, got {c!r}"
            )
        centered = {f: c for f in factors}
    return groups, centered


def spec_from_dict(d: Mapping[str, Any]) -> ModelSpec:
    """Build a :class:`ModelSpec` from a hierarchical dict (see the module docstring).

    Examples
    --------
    >>> s = spec_from_dict({"response": "y", "family": "bernoulli", "fixed": "x",
    ...                     "groups": [{"factor": "school", "slopes": ["x"]}]})
    >>> s.formula
    'y ~ x + (1 + x | school)'
    """
    if not isinstance(d, Mapping):
        raise SpecError(f"a spec must be a mapping, got {type(d).__name__}")
    unknown = set(d) - _MODEL_KEYS - _META_KEYS
    if unknown:
        raise SpecError(
            f"unknown spec key {sorted(unknown)[0]!r}; known keys: {', '.join(sorted(_MODEL_KEYS))}"
        )
    family = str(d.get("family", "gaussian"))
    link = d.get("link")
    centered: dict[str, Any] = {}
    if "formula" in d:
        clash = {"response", "fixed", "offset", "groups"} & set(d)
        if clash:
            raise SpecError(f"give either 'formula' or {sorted(clash)}, not both")
        spec = parse_formula(str(d["formula"]), family, link)
    else:
        if "response" not in d:
            raise SpecError("a spec needs a 'response' (or a 'formula')")
        groups: list[GroupTerm] = []
        for i, entry in enumerate(d.get("groups") or []):
            g, c = _group_entries(entry, i)
            groups += g
            centered.update(c)
        fixed = str(d.get("fixed", "1")).strip() or "1"
        check = parse_formula(f"y ~ {fixed}")
        if check.groups or check.offset:
            raise SpecError(
                "'fixed' must hold population-level terms only; use 'groups' and 'offset'"
            )
        spec = ModelSpec(
            response=_response(d["response"]),
            fixed=check.fixed,
            groups=tuple(groups),
            family=family,
            link=link,
            offset=str(d["offset"]) if d.get("offset") else None,
        )
    priors = d.get("priors") or {}
    if not isinstance(priors, Mapping):
        raise SpecError(f"priors must be a mapping of name -> prior, got {priors!r}")
    dpars = tuple((k, parse_dpar(k, str(d[k]))) for k in ("zi", "hu") if d.get(k) is not None)
    changes: dict[str, Any] = {}
    if d.get("ar") is not None:
        if spec.ar is not None:
            raise SpecError("give ar() either in the formula or as the 'ar' entry, not both")
        if not isinstance(d["ar"], Mapping):
            raise SpecError(f"ar must be a mapping like {{time: t, gr: g}}, got {d['ar']!r}")
        try:
            changes["ar"] = ar_from_dict(dict(d["ar"]), "the 'ar' entry")
        except FormulaError as exc:
            raise SpecError(str(exc)) from None
    return spec.with_options(
        priors={str(k): as_prior(v, str(k)) for k, v in priors.items()},
        centered=centered,
        dpars=dpars,
        **changes,
    )


def spec_to_dict(spec: ModelSpec) -> dict[str, Any]:
    """Hierarchical dict of a spec (inverse of :func:`spec_from_dict` up to formatting).

    Examples
    --------
    >>> from bayesmixed.formula.parse import parse_formula
    >>> spec_to_dict(parse_formula("y ~ x + (1 + x || g)", "poisson"))
    {'response': 'y', 'family': 'poisson', 'fixed': 'x', 'groups': [{'factor': 'g',
     'intercept': True, 'slopes': ['x'], 'correlated': False}]}
    """
    r = spec.response
    resp: Any = r.expr
    if r.kind == "cbind":
        resp = {"successes": r.expr, "failures": r.other}
    elif r.kind == "trials":
        resp = {"successes": r.expr, "trials": r.other}
    elif r.kind == "se":
        resp = {"value": r.expr, "se": r.other}
    groups = []
    for g in spec.groups:
        parsed = parse_formula(f"y ~ {g.expr}")
        desc = parsed.fixed.replace(" ", "")
        terms = [t for _, t in split_top_level(desc, "+")]
        intercept = "0" not in terms and "-1" not in desc
        slopes = [t for t in terms if t not in ("1", "0")]
        entry: dict[str, Any] = {
            "factor": g.factor,
            "intercept": intercept,
            "slopes": slopes,
            "correlated": g.correlated,
        }
        if g.factor in spec.centered:
            entry["centered"] = spec.centered[g.factor]
        groups.append(entry)
    out: dict[str, Any] = {"response": resp, "family": spec.family}
    if spec.link:
        out["link"] = spec.link
    out["fixed"] = spec.fixed
    if spec.offset:
        out["offset"] = spec.offset
    out["groups"] = groups
    for k, rhs in spec.dpars:
        out[k] = f"~ {rhs}"
    if spec.ar is not None:
        out["ar"] = {"time": spec.ar.time, **({"gr": spec.ar.gr} if spec.ar.gr else {}),
                     "p": spec.ar.p}
    if spec.priors:
        out["priors"] = {k: p.to_dict() for k, p in spec.priors.items()}
    return out


def load_spec(path: str | Path) -> tuple[ModelSpec, dict[str, Any]]:
    """Read a YAML spec file; return the spec and the file's metadata entries.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "model.yaml"
    >>> text = "formula: use ~ urban + (1 | district)\\nfamily: bernoulli\\ntitle: demo\\n"
    >>> _ = path.write_text(text)
    >>> spec, meta = load_spec(path)
    >>> spec.formula, spec.family, meta
    ('use ~ urban + (1 | district)', 'bernoulli', {'title': 'demo'})
    """
    p = Path(path)
    if not p.is_file():
        raise SpecError(f"spec file {str(p)!r} does not exist")
    try:
        d = yaml.safe_load(p.read_text())
    except yaml.YAMLError as exc:
        raise SpecError(f"spec file {str(p)!r} is not valid YAML: {exc}") from None
    spec = spec_from_dict(d)
    return spec, {k: v for k, v in d.items() if k in _META_KEYS}
