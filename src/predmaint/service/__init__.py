"""The reusable logic of the prediction service: model store, micro-batcher, explanations, logs.

Nothing here imports FastAPI; the HTTP layer lives in the top-level ``serving`` package.
"""
