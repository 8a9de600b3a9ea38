"""The closed-form 2 x 2 LKJ prior (graph/correlation.py) is the LKJ prior."""

import numpy as np
import pymc as pm
import pytest
from scipy import special, stats

from bayesmixed.graph.correlation import correlation_cholesky

COORDS = {"g__term": ["a", "b"], "g__term_b": ["a", "b"]}


def _lkj2_logpdf(r: np.ndarray, eta: float) -> np.ndarray:
    """LKJ(eta) density of the correlation of a 2 x 2 matrix (normalized on [-1, 1])."""
    return (eta - 1) * np.log1p(-(r**2)) - (2 * eta - 1) * np.log(2) - special.betaln(eta, eta)


@pytest.mark.parametrize("eta", [1.0, 2.0, 4.5])
def test_density_matches_lkj_formula(eta):
    with pm.Model(coords=COORDS) as model:
        correlation_cholesky("g", 2, eta)
    r = np.linspace(-0.99, 0.99, 41)
    logp_u = model.compile_logp(jacobian=False)  # density of u = (r + 1) / 2
    got = np.array([logp_u({"cor_u__g_logodds__": special.logit((x + 1) / 2)}) for x in r]) - np.log(2)
    # PyMC evaluates the Beta normalizer with its own betaln: agrees to ~2e-8
    np.testing.assert_allclose(got, _lkj2_logpdf(r, eta), rtol=0, atol=1e-6)


@pytest.mark.parametrize("eta", [1.0, 2.0])
def test_draws_match_pymc_lkjcorr(eta):
    n = 4000
    with pm.Model(coords=COORDS):
        chol = correlation_cholesky("g", 2, eta)
    ours = pm.draw((chol @ chol.T)[1, 0], draws=n, random_seed=11)
    ref_chol = pm.LKJCorr.dist(n=2, eta=eta)
    ref = pm.draw((ref_chol @ ref_chol.T)[1, 0], draws=n, random_seed=12)
    # two independent samples of one distribution: KS p-value uniform; 1e-3 fails 1 in 1000
    assert stats.ks_2samp(ours, ref).pvalue > 1e-3
    # E[r^2] = 1 / (2 eta + 1); Monte Carlo sd of the mean of r^2 from the draws themselves
    se = np.std(ours**2) / np.sqrt(n)
    assert abs(np.mean(ours**2) - 1 / (2 * eta + 1)) < 4 * se


def test_three_terms_use_lkjcorr():
    coords = {"g__term": list("abc"), "g__term_b": list("abc")}
    with pm.Model(coords=coords) as model:
        chol = correlation_cholesky("g", 3, 2.0)
    assert [v.name for v in model.free_RVs] == ["corr_chol__g"]
    R = pm.draw(chol @ chol.T, random_seed=2)
    np.testing.assert_allclose(np.diag(R), 1.0)
    assert np.all(np.linalg.eigvalsh(R) > 0)
