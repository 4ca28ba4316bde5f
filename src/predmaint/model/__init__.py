"""The model: features, training, evaluation, the promotion gate, registry, tracking, reproduction, batch scoring."""
