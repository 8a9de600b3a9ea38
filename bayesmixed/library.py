"""A library of ready classic multilevel models, one YAML file each in ``bayesmixed/models/``.

Every entry holds the model spec (a ``formula:`` plus ``family``/``link``, in the format of
:mod:`bayesmixed.formula.yaml_spec`) and, for teaching and checking:

- ``name``, ``title`` and a ``description`` of the study and what the model teaches;
- ``data``: the name of a bundled data set (:mod:`bayesmixed.datasets`);
- ``sampler``: suggested sampler settings (chains, draws, tune, target_accept);
- ``reference``: published estimates with their provenance (source, method, estimates keyed
  by bayesmixed's parameter names), where a verified copy exists;
- ``references``: literature.

>>> from bayesmixed import library
>>> entry = library.get("sleepstudy")  # doctest: +SKIP
>>> fit = bm.fit(entry.spec, entry.load_data())  # doctest: +SKIP

The folder ``bayesmixed/models/`` is package data, so an installed wheel has the library; the
environment variable ``BAYESMIXED_MODELS`` points elsewhere.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from bayesmixed.errors import SpecError
from bayesmixed.formula.terms import ModelSpec

__all__ = ["LibraryModel", "get", "load_entry", "models", "models_dir", "names", "table"]

#: Sampler settings an entry may suggest.
SAMPLER_KEYS = frozenset(
    {"chains", "draws", "tune", "target_accept", "backend", "max_treedepth", "adaptation"}
)
_REQUIRED = ("name", "title", "description", "data", "family")


def models_dir() -> Path:
    """The folder holding the library's YAML files.

    Examples
    --------
    >>> (models_dir() / "sleepstudy.yaml").is_file()
    True
    """
    env = os.environ.get("BAYESMIXED_MODELS")
    if env:
        return Path(env)
    return Path(__file__).resolve().parent / "models"  # package data: ships in the wheel


@dataclass(frozen=True)
class LibraryModel:
    """One ready model of the library.

    Examples
    --------
    >>> m = get("cbpp")
    >>> m.formula, m.data
    ('cbind(incidence, size - incidence) ~ period + (1 | herd)', 'cbpp')
    >>> round(m.reference_estimates()["sd(Intercept|herd)"], 3)
    0.642
    """

    name: str
    title: str
    description: str
    data: str
    spec: ModelSpec
    sampler: dict[str, Any] = field(default_factory=dict)
    reference: dict[str, Any] | None = None
    references: tuple[str, ...] = ()
    path: Path | None = None

    @property
    def formula(self) -> str:
        """The model formula."""
        return self.spec.formula

    @property
    def family(self) -> str:
        """The response family."""
        return self.spec.family

    def load_data(self) -> pd.DataFrame:
        """The entry's data set (:func:`bayesmixed.datasets.load`)."""
        from bayesmixed.datasets import load

        return load(self.data)

    def reference_estimates(self) -> dict[str, float]:
        """Published point estimates by parameter name (empty when none are bundled)."""
        return dict((self.reference or {}).get("estimates") or {})


def load_entry(path: str | Path) -> LibraryModel:
    """Read and check one library YAML file.

    Raises
    ------
    SpecError
        When a required entry is missing, the data set is unknown, the sampler hints name an
        unknown setting, or the spec itself is malformed.

    Examples
    --------
    >>> load_entry(models_dir() / "epil.yaml").family
    'poisson'
    """
    from bayesmixed.datasets import DATASETS
    from bayesmixed.formula.yaml_spec import spec_from_dict

    p = Path(path)
    try:
        d = yaml.safe_load(p.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise SpecError(f"cannot read library model {str(p)!r}: {exc}") from None
    if not isinstance(d, dict):
        raise SpecError(f"library model {str(p)!r} must be a mapping")
    for key in _REQUIRED:
        if not d.get(key):
            raise SpecError(f"library model {str(p)!r} lacks {key!r}")
    if d["name"] != p.stem:
        raise SpecError(f"library model {str(p)!r} is named {d['name']!r}; name it like its file")
    if str(d["data"]).lower() not in DATASETS:
        raise SpecError(f"library model {d['name']!r} uses unknown data set {d['data']!r}")
    sampler = d.get("sampler") or {}
    unknown = set(sampler) - SAMPLER_KEYS
    if unknown:
        raise SpecError(
            f"library model {d['name']!r}: unknown sampler setting {sorted(unknown)[0]!r}"
        )
    try:
        spec = spec_from_dict(d)
    except SpecError as exc:
        raise SpecError(f"library model {d['name']!r}: {exc}") from None
    refs = d.get("references") or ()
    return LibraryModel(
        name=str(d["name"]),
        title=str(d["title"]),
        description=str(d["description"]).strip(),
        data=str(d["data"]).lower(),
        spec=spec,
        sampler=dict(sampler),
        reference=d.get("reference"),
        references=tuple(str(r) for r in refs),
        path=p,
    )


def names() -> list[str]:
    """Names of the library's models, sorted.

    Examples
    --------
    >>> "contraception" in names()
    True
    """
    folder = models_dir()
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob("*.yaml"))


def get(name: str) -> LibraryModel:
    """The library model called ``name`` (case-insensitive).

    Raises
    ------
    SpecError
        When there is no such model (the message lists the available ones).

    Examples
    --------
    >>> get("SleepStudy").name
    'sleepstudy'
    """
    available = names()
    key = str(name).lower()
    match = [n for n in available if n.lower() == key]
    if not match:
        raise SpecError(
            f"no library model named {name!r}; available: {', '.join(available) or '(none)'}"
        )
    return load_entry(models_dir() / f"{match[0]}.yaml")


def models() -> list[LibraryModel]:
    """Every library model, sorted by name.

    Examples
    --------
    >>> len(models()) >= 8
    True
    """
    return [get(n) for n in names()]


def table() -> pd.DataFrame:
    """One row per library model: title, family, formula, data set, number of reference values.

    Examples
    --------
    >>> table().loc["verbagg", "family"]
    'bernoulli'
    """
    rows = [
        {
            "name": m.name,
            "title": m.title,
            "family": m.family,
            "formula": m.formula,
            "data": m.data,
            "reference_values": len(m.reference_estimates()),
        }
        for m in models()
    ]
    cols = ["name", "title", "family", "formula", "data", "reference_values"]
    return pd.DataFrame(rows, columns=cols).set_index("name")
