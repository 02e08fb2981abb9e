"""Shared core of the 舆情 crisis-analysis service: labels, settings, schemas, text handling
and the predictor contract. Imported by training/, search/ and playbooks/; imports none of them."""
