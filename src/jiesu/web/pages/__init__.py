"""One module per console; each exposes `router` and, for role consoles, `console()`."""
