"""A model spec validated against the data, as numeric design matrices; never imports PyMC."""
