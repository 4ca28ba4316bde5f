"""predmaint: the predictive-maintenance lifecycle, one package per stage over the shared config, physics and schema."""
