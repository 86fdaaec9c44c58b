"""jiesu: citizen-request hotline platform (接诉即办, Open311)."""

__version__ = "0.1.0"
