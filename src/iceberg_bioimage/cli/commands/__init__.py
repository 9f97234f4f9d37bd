"""One module of commands per job; each calls only :mod:`iceberg_bioimage.api`
and never another command module."""
