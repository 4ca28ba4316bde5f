"""Data in: ingest, the simulator, the chronological split, cleaning, lineage, retraining windows and table I/O."""
