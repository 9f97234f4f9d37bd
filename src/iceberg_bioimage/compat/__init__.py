"""Code written for iceberg-bioimage 0.1.0 keeps working.

The one place that maps 0.1.0's call forms (:mod:`.forms`), result
attributes (:mod:`.results`) and module paths (the ``models.scan_result``,
``publishing``, ``validation`` and ``integrations`` shims, which only
re-export) onto today's API. The package namespace exports the wrapped
functions; ``iceberg_bioimage.api`` keeps today's forms only.
"""
