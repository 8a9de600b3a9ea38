"""The continuous families gamma, beta and lognormal: validation, priors, closed forms,
independent references (glmmTMB; adaptive Gauss-Hermite maximum likelihood), recovery, SBC, the
report and the CLI.

References and their provenance:

* ``sleepstudy_gamma``: glmmTMB 1.x (Laplace ML) estimates of ``Reaction ~ Days + (1 | Subject)``,
  Gamma(link = "log"), from ``shared/reference/families_reference.json`` (made by
  ``shared/reference/families_reference.R``), copied into ``bayesmixed/models/sleepstudy_gamma.yaml``.
* ``sleepstudy_lognormal`` and ``gasolineyield_beta``: maximum likelihood by adaptive
  Gauss-Hermite quadrature written for these tests (``tests/ml_reference.py``: numpy, scipy.stats
  densities, scipy.optimize), stored in the library YAML files. The same code reproduces glmmTMB's
  gamma fit (:func:`test_aghq_reference_reproduces_glmmtmb`), which validates it.
* closed-form log-densities written out here (gamma, beta, lognormal), not taken from scipy.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from scipy import special

import bayesmixed as bm
from bayesmixed import library
from bayesmixed.errors import DataError, FamilyError
from bayesmixed.families import get_family
from tests.conftest import QUICK
from tests.fixtures_report import parts

NEW = ("gamma", "beta", "lognormal")


# -- no sampling -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("family", "bad", "text"),
    [("gamma", 0.0, "> 0"), ("lognormal", -1.5, "> 0"), ("beta", 1.0, "strictly between 0 and 1"),
     ("beta", 0.0, "strictly between 0 and 1")],
)
def test_response_outside_the_support_is_refused_naming_column_and_value(family, bad, text):
    df = pd.DataFrame({"resp": [0.5, 0.2, bad, 0.3], "g": list("abab")})
    with pytest.raises(DataError, match=text) as info:
        bm.prepare("resp ~ 1 + (1 | g)", df, family=family)
    assert "'resp'" in str(info.value) and repr(float(bad)) in str(info.value)
    assert "row 2" in str(info.value)


def test_links_and_aliases():
    assert get_family("gamma").links == ("log", "inverse", "identity")
    assert get_family("beta").default_link == "logit"
    assert get_family("log_normal").name == "lognormal"
    with pytest.raises(FamilyError, match="identity"):
        bm.prepare("y ~ 1", pd.DataFrame({"y": [0.3, 0.4]}), family="beta", link="identity")


def test_default_priors_are_scaled_to_the_data():
    df = bm.datasets.load("sleepstudy")
    y = df["Reaction"].to_numpy()
    pri = bm.prepare("Reaction ~ Days + (1 | Subject)", df, family="gamma").priors
    k = np.mean(y) ** 2 / np.var(y, ddof=1)
    assert str(pri["shape"]) == f"Gamma(alpha=2, beta={round(0.1 / k, 6):g})"
    pri = bm.prepare("Reaction ~ Days + (1 | Subject)", df, family="lognormal").priors
    sd_log = np.std(np.log(y), ddof=1)
    assert f"{1 / sd_log:.4g}" in str(pri["sigma"])
    assert f"mu={np.mean(np.log(y)):.4g}" in str(pri["Intercept"])
    assert f"sigma={2.5 * sd_log:.4g}" in str(pri["Intercept"])
    gas = bm.datasets.load("gasolineyield")
    yb = gas["yield_prop"].to_numpy()
    kb = np.mean(yb) * (1 - np.mean(yb)) / np.var(yb, ddof=1) - 1
    pri = bm.prepare("yield_prop ~ temp + (1 | batch)", gas, family="beta").priors
    assert str(pri["phi"]) == f"Gamma(alpha=2, beta={round(0.1 / kb, 6):g})"


def test_loglik_equals_closed_forms():
    rng = np.random.default_rng(4)
    eta = rng.normal(0.5, 0.3, size=(2, 6))
    y_pos, y_unit = rng.gamma(2.0, 1.0, 6), rng.beta(2.0, 3.0, 6)
    k, phi, s = 3.0, 7.0, 0.6
    got = get_family("gamma").loglik(y_pos, eta, "log", {"shape": np.full((2, 1), k)})
    mu = np.exp(eta)
    want = k * np.log(k / mu) - special.gammaln(k) + (k - 1) * np.log(y_pos) - k * y_pos / mu
    np.testing.assert_allclose(got, want, rtol=1e-10)
    got = get_family("gamma").loglik(y_pos, eta, "inverse", {"shape": np.full((2, 1), k)})
    mu = 1 / eta
    want = k * np.log(k / mu) - special.gammaln(k) + (k - 1) * np.log(y_pos) - k * y_pos / mu
    np.testing.assert_allclose(got, want, rtol=1e-10)
    got = get_family("beta").loglik(y_unit, eta, "logit", {"phi": np.full((2, 1), phi)})
    m = special.expit(eta)
    a, b = m * phi, (1 - m) * phi
    want = (special.gammaln(phi) - special.gammaln(a) - special.gammaln(b)
            + (a - 1) * np.log(y_unit) + (b - 1) * np.log1p(-y_unit))
    np.testing.assert_allclose(got, want, rtol=1e-10)
    got = get_family("lognormal").loglik(y_pos, eta, "identity", {"sigma": np.full((2, 1), s)})
    want = (-np.log(y_pos * s * np.sqrt(2 * np.pi)) - (np.log(y_pos) - eta) ** 2 / (2 * s * s))
    np.testing.assert_allclose(got, want, rtol=1e-10)


def test_lognormal_mean_and_marginal_mean_closed_forms():
    from bayesmixed.report.predict.random import marginal_mean

    fam = get_family("lognormal")
    aux = {"sigma": np.array([[0.5]])}
    eta, v = np.array([[0.2, 1.0]]), np.array([[0.3, 0.8]])
    got = marginal_mean("identity", eta, v, response=lambda m: fam.expected(m, aux, None))
    np.testing.assert_allclose(got, np.exp(eta + (v + 0.25) / 2), rtol=1e-8)
    np.testing.assert_allclose(fam.expected(eta, aux, None), np.exp(eta + 0.125))


@pytest.mark.parametrize(("family", "link"), [("gamma", "inverse"), ("beta", "probit")])
def test_yaml_spec_names_family_and_link(family, link):
    from bayesmixed.formula.yaml_spec import spec_from_dict, spec_to_dict

    spec = spec_from_dict({"formula": "y ~ x + (1 | g)", "family": family, "link": link})
    assert (spec.family, spec.link) == (family, link)
    assert spec_from_dict(spec_to_dict(spec)) == spec


def test_simulate_refuses_non_positive_gamma_means():
    with pytest.raises(bm.errors.SpecError, match="positive"):
        bm.simulate("y ~ x + (1 | g)", family="gamma", link="identity", n_groups=5, seed=1,
                    truth={"Intercept": 0.0})


def test_aghq_reference_reproduces_glmmtmb():
    """The independent maximum-likelihood code reproduces glmmTMB's gamma fit of sleepstudy
    (Laplace ML; provenance in the library entry), so its beta / lognormal values are trusted."""
    from tests.ml_reference import fit_ml

    entry = library.get("sleepstudy_gamma")
    ref = entry.reference_estimates()
    df = entry.load_data()
    X = np.column_stack([np.ones(len(df)), df["Days"]])
    ml = fit_ml("gamma", df["Reaction"], X, df["Subject"], start_aux=50.0)
    assert ml["beta"] == pytest.approx([ref["Intercept"], ref["Days"]], rel=1e-4)
    assert ml["tau"] == pytest.approx(ref["sd(Intercept|Subject)"], rel=1e-3)
    assert ml["aux"] == pytest.approx(ref["shape"], rel=1e-3)
    assert ml["loglik"] == pytest.approx(entry.reference["logLik"], abs=0.01)


# -- one quick lognormal fit: recovery, ICC, predictions, LOO, report ---------------------------


@pytest.fixture(scope="module")
def lognormal_fit():
    truth = {"Intercept": 1.0, "x": 0.5, "sd(Intercept|g)": 0.6, "sigma": 0.4}
    df = bm.simulate("y ~ x + (1 | g)", family="lognormal", n_groups=20, n_per_group=10,
                     truth=truth, seed=5)
    return bm.fit("y ~ x + (1 | g)", df, family="lognormal", seed=2, **QUICK), truth


def test_lognormal_recovers_the_truth(lognormal_fit):
    fit, truth = lognormal_fit
    table = fit.summary(prob=0.99)
    for name, value in truth.items():
        assert table.loc[name, "0.5%"] < value < table.loc[name, "99.5%"], (name, table)
    assert table["r_hat"].max() < 1.05


def test_lognormal_icc_r2_and_predictions(lognormal_fit, tmp_path):
    from bayesmixed.report.checks.residuals import quantile_residuals
    from bayesmixed.report.core.params import parameter_dataset

    fit, _ = lognormal_fit
    par = parameter_dataset(fit.idata, fit.meta)
    tau2 = par["sd(Intercept|g)"].values.reshape(-1) ** 2
    s2 = par["sigma"].values.reshape(-1) ** 2
    icc = fit.icc()  # log scale: tau^2 / (tau^2 + sigma^2)
    assert icc.loc["g", "mean"] == pytest.approx(np.mean(tau2 / (tau2 + s2)), rel=1e-6)
    assert (icc["scale"] == "latent").all()
    new = pd.DataFrame({"x": [0.0, 1.0], "g": ["zz_new", "zz_new"]})
    eta = (par["Intercept"].values.reshape(-1)[:, None]
           + par["x"].values.reshape(-1)[:, None] * new["x"].to_numpy()[None, :])
    marg = fit.predict(new, groups="marginal")["mean"].to_numpy()  # E[y] = exp(eta + (tau^2 + s^2) / 2)
    closed = np.mean(np.exp(eta + (tau2[:, None] + s2[:, None]) / 2), axis=0)
    assert marg == pytest.approx(closed, rel=1e-6)
    none = fit.predict(new, groups="none")["mean"].to_numpy()
    assert none == pytest.approx(np.mean(np.exp(eta + s2[:, None] / 2), axis=0), rel=1e-6)
    assert 0 < fit.r2().loc["bayes", "mean"] < 1
    assert np.isfinite(float(fit.loo(warn=False).elpd))
    q = quantile_residuals(*parts(fit))
    assert abs(q.mean()) < 0.3 and 0.7 < q.std() < 1.3
    fit.plot_ppc()
    fit.report(tmp_path / "report.html")
    assert "lognormal" in (tmp_path / "report.html").read_text()


def test_cli_fits_a_lognormal_model(tmp_path):
    df = bm.datasets.load("sleepstudy")
    df.to_csv(tmp_path / "sleep.csv", index=False)
    res = subprocess.run(
        [sys.executable, "-m", "bayesmixed", "fit", "--data", "sleep.csv", "--formula",
         "Reaction ~ Days + (1 | Subject)", "--family", "lognormal", "--chains", "2", "--draws",
         "200", "--tune", "200", "--seed", "3", "--out", "run", "--no-report"],
        cwd=tmp_path, capture_output=True, text=True, timeout=900)
    assert res.returncode == 0, res.stderr
    assert "sigma" in res.stdout and "Traceback" not in res.stderr


# -- slow: recovery, references, SBC, CLI ---------------------------------------------------


RECOVERY = [
    ("gamma", "log", {"Intercept": 1.0, "x": 0.5, "sd(Intercept|g)": 0.6, "shape": 4.0}),
    ("gamma", "inverse", {"Intercept": 1.0, "x": 0.1, "sd(Intercept|g)": 0.1, "shape": 8.0}),
    ("gamma", "identity", {"Intercept": 5.0, "x": 1.0, "sd(Intercept|g)": 0.8, "shape": 6.0}),
    ("beta", "logit", {"Intercept": 0.3, "x": 0.5, "sd(Intercept|g)": 0.6, "phi": 15.0}),
    ("lognormal", "identity", {"Intercept": 1.0, "x": 0.5, "sd(Intercept|g)": 0.6, "sigma": 0.4}),
]


@pytest.mark.slow
@pytest.mark.parametrize(("family", "link", "truth"), RECOVERY, ids=[f"{f}-{lk}" for f, lk, _ in RECOVERY])
def test_recovery_two_seeds(family, link, truth):
    for seed in (11, 12):
        df = bm.simulate("y ~ x + (1 | g)", family=family, link=link, n_groups=30,
                         n_per_group=15, truth=truth, seed=seed)
        fit = bm.fit("y ~ x + (1 | g)", df, family=family, link=link, chains=4, draws=500,
                     tune=500, seed=seed, progress=False)
        table = fit.summary(prob=0.995)
        for name, value in truth.items():
            assert table.loc[name, "0.25%"] < value < table.loc[name, "99.75%"], (seed, name, table)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["sleepstudy_gamma", "sleepstudy_lognormal", "gasolineyield_beta"])
def test_posterior_contains_the_references(name):
    """The 95% intervals contain the glmmTMB / AGHQ maximum-likelihood estimates (weakly
    informative default priors; 180 and 32 rows)."""
    entry = library.get(name)
    fit = bm.fit(entry.spec, entry.load_data(), chains=4, draws=1000, tune=1000, seed=7,
                 progress=False, target_accept=0.95)
    table = fit.summary()
    for key, value in entry.reference_estimates().items():
        assert table.loc[key, "2.5%"] < value < table.loc[key, "97.5%"], (key, table)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("family", "priors"),
    [("gamma", {"shape": "gamma(4, 0.5)"}), ("beta", {"phi": "gamma(4, 0.4)"}),
     ("lognormal", {"sigma": "gamma(4, 8)"})],
)
def test_sbc_random_intercept(family, priors):
    from bayesmixed.validate.sbc import sbc

    res = sbc("y ~ x + (1 | g)", 60, family=family, seed=21, n_groups=8, n_per_group=6,
                  priors={"Intercept": "normal(0, 1)", "b": "normal(0, 0.5)",
                          "sd": "half_normal(0.7)", **priors},
                  draws=300, tune=300)
    assert res.n_done == 60
    assert res.passes(0.01), res.uniformity()


@pytest.mark.slow
@pytest.mark.parametrize("model", ["sleepstudy_gamma", "gasolineyield_beta"])
def test_cli_fits_library_models(tmp_path, model):
    res = subprocess.run(
        [sys.executable, "-m", "bayesmixed", "fit", "--model", model, "--chains", "2", "--draws",
         "300", "--tune", "300", "--seed", "3", "--out", "run"],
        cwd=tmp_path, capture_output=True, text=True, timeout=900)
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "run" / "report.html").is_file()
