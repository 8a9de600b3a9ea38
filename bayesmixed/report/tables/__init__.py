"""Tables of the posterior: summary, diagnostics and triage, variance components and VarCorr,
ICC / VPC / MOR, Bayesian R2, random effects and coefficients, broom-style tidy tables."""
