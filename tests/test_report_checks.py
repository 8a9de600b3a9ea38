"""Model checks: residuals, binary and count checks, influence and VIF against direct
computations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import bayesmixed as bm
from bayesmixed.report.checks import checks as C
from bayesmixed.report.checks import residuals as R
from bayesmixed.report.checks.binary import _auc
from bayesmixed.report.core.draws import internal
from tests.fixtures_report import fit_fixture, parts

bern_fit = fit_fixture("bern")
binom_fit = fit_fixture("binom")
gauss_fit = fit_fixture("gauss")
pois_fit = fit_fixture("pois")
zi_fit = fit_fixture("zi")


def flat(fit, name):
    v = np.asarray(internal(fit.idata)[name].values)
    return v.reshape((-1, *v.shape[2:]))


def test_posterior_predictive_draws(bern_fit, binom_fit):
    ppc = bern_fit.ppc(seed=1)
    y = ppc["posterior_predictive"]["y"]
    assert y.dims == ("chain", "draw", "obs") and y.shape == (2, 300, bern_fit.meta["n_obs"])
    assert set(np.unique(y.values)) == {0.0, 1.0}
    yb = binom_fit.ppc()["posterior_predictive"]["y"].values
    assert np.all(yb <= binom_fit.design.trials) and np.all(yb >= 0)


def test_pearson_and_quantile_residuals(gauss_fit, pois_fit):
    fit = gauss_fit
    mu = R.fitted_mean(*parts(fit))
    y = fit.design.y
    np.testing.assert_allclose(
        R.pearson_residuals(*parts(fit)), (y - mu.mean(0)) / flat(fit, "sigma").mean()
    )
    sig = flat(fit, "sigma")[:, None]
    u = stats.norm.cdf((y[None, :] - mu) / sig).mean(axis=0)
    np.testing.assert_allclose(R.quantile_residuals(*parts(fit)), stats.norm.ppf(u), rtol=1e-8)
    # discrete: the randomized value lies between the transformed CDF at y-1 and at y
    fit = pois_fit
    mu = R.fitted_mean(*parts(fit))
    y = fit.design.y.astype(float)
    lo = stats.norm.ppf(stats.poisson.cdf(y - 1, mu).mean(0))
    hi = stats.norm.ppf(stats.poisson.cdf(y, mu).mean(0))
    q = R.quantile_residuals(*parts(fit), seed=3)
    assert np.all(q >= lo - 1e-9) and np.all(q <= hi + 1e-9)
    np.testing.assert_allclose(R.pearson_residuals(*parts(fit)), (y - mu.mean(0)) / np.sqrt(mu.mean(0)))


def test_quantile_residuals_are_normal_under_the_true_model(bern_fit):
    q = R.quantile_residuals(*parts(bern_fit), seed=0)
    assert stats.kstest(q, "norm").pvalue > 0.001
    assert abs(q.mean()) < 4 / np.sqrt(q.size)


def test_binary_metrics_by_hand(bern_fit):
    fit = bern_fit
    p = R.fitted_mean(*parts(fit))
    y = fit.design.y
    m = C.classification_metrics(*parts(fit))
    acc = np.mean((p > 0.5) == (y == 1), axis=1)
    brier = np.mean((y - p) ** 2, axis=1)
    assert m.loc["accuracy", "mean"] == pytest.approx(acc.mean())
    assert m.loc["brier", "mean"] == pytest.approx(brier.mean())
    pos, neg = y == 1, y == 0
    for s in (0, 300):  # AUC = P(score of a random positive > score of a random negative)
        d = p[s, pos][:, None] - p[s, neg][None, :]
        auc = np.mean(d > 0) + 0.5 * np.mean(d == 0)
        assert _auc(p[[s]], y)[0] == pytest.approx(auc, rel=1e-10)
    assert 0.6 < m.loc["auc", "mean"] < 1


def test_binned_residuals_and_calibration(bern_fit, binom_fit):
    br = C.binned_residuals(*parts(bern_fit), n_bins=10)
    p = R.fitted_mean(*parts(bern_fit)).mean(0)
    y = bern_fit.design.y
    order = np.argsort(p, kind="stable")
    first = order[:60]  # 600 rows in 10 equal bins
    assert br.loc[0, "n"] == 60
    assert br.loc[0, "predicted"] == pytest.approx(p[first].mean())
    assert br.loc[0, "observed"] == pytest.approx(y[first].mean())
    assert br.loc[0, "se"] == pytest.approx(np.sqrt(p[first].mean() * (1 - p[first].mean()) / 60))
    assert br["inside"].mean() >= 0.8  # true model
    cal = C.calibration_table(*parts(binom_fit), binom_fit.ppc())
    assert cal["n"].sum() == binom_fit.design.trials.sum()  # trials-weighted bins
    assert (cal["lo"] <= cal["hi"]).all()
    assert np.mean((cal["observed"] >= cal["lo"]) & (cal["observed"] <= cal["hi"])) >= 0.7


def test_group_proportions(bern_fit):
    g = C.group_proportions(*parts(bern_fit), bern_fit.ppc())
    d = bern_fit.data
    obs = d.groupby("school")["y"].mean()
    np.testing.assert_allclose(g.set_index("level")["observed"].loc[obs.index], obs.to_numpy())
    assert g["outside"].mean() <= 0.25


def test_count_checks_and_warnings(zi_fit, pois_fit):
    out = zi_fit.check()
    cc = out["counts"]
    y = zi_fit.design.y
    assert cc["zeros_observed"] == pytest.approx(np.mean(y == 0))
    mu = R.fitted_mean(*parts(zi_fit))
    assert cc["zeros_predicted"] == pytest.approx(np.exp(-mu).mean())
    assert cc["zeros_observed"] > cc["zeros_predicted"]
    text = " ".join(out["warnings"])
    assert "zero-inflation" in text and "overdispersion" in text
    root = out["rootogram"]
    assert list(root["count"]) == list(range(len(root)))
    assert root.loc[0, "observed"] == np.sum(y == 0)
    exp0 = stats.poisson.pmf(0, mu).mean(0).sum()
    assert root.loc[0, "expected"] == pytest.approx(exp0)
    assert root["expected"].sum() <= y.size + 1e-9


def test_influential_clusters(bern_fit):
    fit = bern_fit
    ll = R.pointwise_log_likelihood(*parts(fit))
    idx = fit.design.blocks[0].index
    cond = R.influential_clusters(*parts(fit), method="conditional")
    sums = R.cluster_log_likelihood(ll, idx, 30)
    np.testing.assert_allclose(sums[:, 3], ll[:, idx == 3].sum(axis=1))
    assert len(cond) == 30 and np.isfinite(cond["pareto_k"]).sum() >= 20
    assert cond["pareto_k"].is_monotonic_decreasing or cond["pareto_k"].isna().any()
    # integrated likelihood of one cluster vs brute-force Monte Carlo over its effects
    integ = R.integrated_cluster_log_likelihood(*parts(fit), 0)
    blk = fit.design.blocks[0]
    sd, cor = flat(fit, "sd__school"), flat(fit, "cor__school")
    beta = np.column_stack(
        [flat(fit, "Intercept")]
        + [
            internal(fit.idata)["b"].sel(coef=n).values.reshape(-1)
            for n in fit.meta["x_names"][1:]
        ]
    )
    rows = idx == 5
    y = fit.design.y[rows]
    rng = np.random.default_rng(0)
    for s in (10, 400):
        Sigma = np.diag(sd[s]) @ cor[s] @ np.diag(sd[s])
        u = rng.multivariate_normal(np.zeros(2), Sigma, size=100_000)
        eta = (fit.design.X[rows] @ beta[s])[None, :] + u @ blk.Z[rows].T
        lik = np.exp((y * eta - np.logaddexp(0, eta)).sum(axis=1))
        mc = np.log(lik.mean())
        se = lik.std() / lik.mean() / np.sqrt(lik.size)
        assert abs(integ[s, 5] - mc) < 5 * se + 1e-6
    table = fit.check()["influence"]
    assert {"factor", "level", "n", "elpd_loco", "pareto_k", "good_k", "influential"} <= set(
        table.columns
    )
    assert len(table) == 30 and table["n"].sum() == fit.meta["n_obs"]


def test_vif_warns_above_five():
    rng = np.random.default_rng(0)
    a = rng.normal(size=200)
    df = pd.DataFrame(
        {
            "y": rng.normal(size=200),
            "a": a,
            "b": a + rng.normal(0, 0.1, 200),
            "c": rng.normal(size=200),
            "g": np.repeat(list("abcdefghij"), 20),
        }
    )
    built = bm.prepare("y ~ a + b + c + (1 | g)", df)
    vif = C.vif_table(None, built.meta(), built.design)  # no posterior needed
    X = df[["a", "b", "c"]].to_numpy()
    for j, name in enumerate(["a", "b", "c"]):  # 1 / (1 - R2) from the regression on the others
        others = np.column_stack([np.ones(200), np.delete(X, j, axis=1)])
        fitted = others @ np.linalg.lstsq(others, X[:, j], rcond=None)[0]
        r2 = 1 - np.sum((X[:, j] - fitted) ** 2) / np.sum((X[:, j] - X[:, j].mean()) ** 2)
        assert vif.loc[name, "vif"] == pytest.approx(1 / (1 - r2), rel=1e-8)
    assert vif.loc["a", "warn"] and vif.loc["b", "warn"] and not vif.loc["c", "warn"]


def test_bernoulli_check_bundle(bern_fit):
    out = bern_fit.check()
    for key in (
        "ppc",
        "residuals",
        "vif",
        "groups",
        "binned_residuals",
        "calibration",
        "metrics",
        "influence",
        "warnings",
    ):
        assert key in out
    assert not any("VIF" in w for w in out["warnings"])
    assert not any("overdispersion" in w or "zero-inflation" in w for w in out["warnings"])


def _integrated_by_node_loop(fit, block):
    """The quadrature of :func:`R.integrated_cluster_log_likelihood` written node by node over
    all draws at once, as first implemented: ``u = mode + A x`` per node, then the likelihood,
    the prior and the weights (the reference for the chunked, vectorized version)."""
    from scipy.special import logsumexp

    from bayesmixed.names import r_var
    from bayesmixed.report.core.draws import block_cholesky
    from bayesmixed.report.core.linpred import fitted_process, linpred, log_likelihood

    idata, meta, design = fit.idata, fit.meta, fit.design
    dblk, mblk = design.blocks[block], meta["blocks"][block]
    groups = [(b.index, b.Z) for b in design.blocks]
    include = [j != block for j in range(len(design.blocks))]
    eta0 = linpred(idata, meta, design.X, groups, design.offset, include=include,
                   process=fitted_process(idata, meta, design.ar_codes))
    y = np.asarray(design.y, dtype=float)
    trials = None if design.trials is None else np.asarray(design.trials, dtype=float)
    r = flat(fit, r_var(mblk["label"]))
    S, L, k = r.shape
    chol = block_cholesky(idata, mblk)
    prec = np.linalg.solve(chol.transpose(0, 2, 1), np.linalg.solve(chol, np.eye(k)))
    order = np.argsort(dblk.index, kind="stable")
    starts = np.searchsorted(dblk.index[order], np.arange(L))
    mode, H = R._cluster_modes(idata, meta, design, eta0, y, trials, dblk, prec, order, starts,
                               r.copy())
    A = np.linalg.cholesky(np.linalg.inv(H))
    logdet_A = np.log(np.diagonal(A, axis1=-2, axis2=-1)).sum(axis=-1)
    x, lw = R._gauss_hermite_grid(k)
    log_phi = -0.5 * np.sum(x**2, axis=1) - 0.5 * k * np.log(2 * np.pi)
    terms = np.empty((len(lw), S, L))
    for m in range(len(lw)):
        u = mode + np.einsum("sjkl,l->sjk", A, x[m])
        eta = eta0 + np.einsum("sik,ik->si", u[:, dblk.index, :], dblk.Z)
        ll = log_likelihood(idata, meta, eta, y, trials, design.dpar_X)
        ll_cl = np.add.reduceat(ll[:, order], starts, axis=1)
        prior = R._mvn_logpdf(u, chol[:, None, :, :])
        terms[m] = lw[m] + ll_cl + prior + logdet_A - log_phi[m]
    return logsumexp(terms, axis=0)


@pytest.mark.parametrize("name", ["bern", "binom"])
def test_integrated_quadrature_equals_the_node_loop(name, request, monkeypatch):
    """Chunked over draws (small chunks here, so that several chunks and a partial last one
    are exercised), the vectorized quadrature gives the node-by-node values to rounding."""
    fit = request.getfixturevalue(f"{name}_fit")
    monkeypatch.setattr(R, "_CHUNK_ELEMENTS", 7 * fit.meta["n_obs"])  # 7 draws per chunk
    fast = R.integrated_cluster_log_likelihood(*parts(fit), 0)
    ref = _integrated_by_node_loop(fit, 0)
    assert fast.shape == ref.shape and np.all(np.isfinite(fast))
    np.testing.assert_allclose(fast, ref, rtol=1e-10, atol=1e-9)


def test_influence_on_thinned_draws_says_how_many(bern_fit):
    """The integrated quadrature runs on at most ``draws`` posterior draws (thinned within
    chains): the table says how many, good_k follows that number, and elpd_loco stays within
    Monte Carlo error of the all-draws values."""
    thin = R.influential_clusters(*parts(bern_fit), draws=300)
    full = R.influential_clusters(*parts(bern_fit), draws=None)
    assert (thin.attrs["draws"], thin.attrs["total_draws"]) == (300, 600)
    assert (full.attrs["draws"], full.attrs["total_draws"]) == (600, 600)
    assert thin["good_k"].iloc[0] == pytest.approx(min(1 - 1 / np.log10(300), 0.7))
    both = thin.merge(full, on=["factor", "level"], suffixes=("_thin", "_all"))
    assert len(both) == 30 and np.isfinite(both["elpd_loco_thin"]).all()
    gap = np.abs(both["elpd_loco_thin"] - both["elpd_loco_all"])
    assert gap.max() < 0.1 * np.abs(both["elpd_loco_all"]).min()
    notes = bern_fit.check()["influence_notes"]
    assert not any("posterior draws" in n for n in notes)  # 600 draws: none thinned by default
