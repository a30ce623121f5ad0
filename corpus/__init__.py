"""Training-data engine for the restorer: clean text, OCR-noise channels, noisy/clean pairs."""
