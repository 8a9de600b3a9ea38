"""The report layer: every quantity a fit reports, from ``(idata, meta, design)``.

Subpackages by topic (each module under 400 lines; the layer never imports ``graph``,
``sample``, ``pipeline``, ``result``, ``api`` or ``cli``):

- :mod:`~bayesmixed.report.core`: the draws every topic reads (the internal tree, the linear
  predictor, the ArviZ-native tree, parameter datasets);
- :mod:`~bayesmixed.report.tables`: summaries, diagnostics, variance components, ICC, R2,
  random effects, tidy tables;
- :mod:`~bayesmixed.report.predict`: predictions for observed and new groups, marginal
  effects;
- :mod:`~bayesmixed.report.checks`: posterior predictive and residual checks, influence,
  linearity, their figures;
- :mod:`~bayesmixed.report.compare`: PSIS-LOO, WAIC, K-fold CV, hypotheses;
- :mod:`~bayesmixed.report.render`: figures, the text of a fit and the HTML report.
"""
