"""Training, evaluation and registration of the mention classifiers."""
