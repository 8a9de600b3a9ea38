"""Predictions (:mod:`.predict`: conditional, new groups, zero effects, population-averaged),
the inputs they are built from, the latent AR(1) and ordinal parts, and marginal effects."""
