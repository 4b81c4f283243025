"""Cross-cutting pieces: settings, typed domain errors."""
