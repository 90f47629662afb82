"""Devices: profiles, the roofline prediction, calibration, the roofline plot."""
