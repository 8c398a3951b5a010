"""Demo data (filled in by the demo command's implementation)."""
