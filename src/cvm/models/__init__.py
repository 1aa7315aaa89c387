"""Customer-base models (BG/NBD, Pareto/NBD, Gamma-Gamma …): pure numpy/scipy maths. Arrives with issue 3."""
