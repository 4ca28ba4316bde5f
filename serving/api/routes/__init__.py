"""One router per resource: health, predict, feedback, model, metrics, admin."""
