"""Model comparison and testing: PSIS-LOO and WAIC (:mod:`.loo`), grouped K-fold CV with an
injected refit callable (:mod:`.kfold`), and hypotheses with Savage-Dickey Bayes factors."""
