"""0.1.0's validation package (see :mod:`iceberg_bioimage.compat`)."""
