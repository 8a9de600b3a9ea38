"""What every report topic reads: the internal draws (:mod:`.tree`, :mod:`.draws`), the linear
predictor and log-likelihood (:mod:`.linpred`), the ArviZ-native tree (:mod:`.native`) and the
parameters under their summary names (:mod:`.params`)."""
