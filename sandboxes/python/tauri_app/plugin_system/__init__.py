"""ClassTop's own module path, so that a plugin written for ClassTop runs here unmodified."""
