"""Stage machinery: the table of checks per (stage, kind) and the runner that applies them."""
