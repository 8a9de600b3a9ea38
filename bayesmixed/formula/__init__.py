"""Formulas and YAML specs to a model spec (terms, response, priors); no data, no PyMC."""
