"""The model: the Stack (a lowered tree today), layer names, receptive-field footprints, gridding runs."""
