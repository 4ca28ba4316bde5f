"""The data-quality gate: the data contract, the GX suites built from it, the gate and Data Docs.

Only :mod:`predmaint.quality.contract` and :mod:`predmaint.quality.results` are free of Great
Expectations; import :mod:`~predmaint.quality.gate` (or ``suites``/``docs``) only in processes that
validate.
"""
