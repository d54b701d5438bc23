"""Hidden checks, one pytest module per chapter (``chNN.py``)."""
