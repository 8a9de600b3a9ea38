"""Design and priors to a PyMC model: the only package that builds PyMC graphs."""
