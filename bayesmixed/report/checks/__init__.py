"""Model checks: posterior predictive draws and count checks, binary-outcome checks, residuals
and cluster influence, the linearity test, and the figures of these checks."""
