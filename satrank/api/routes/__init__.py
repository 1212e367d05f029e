"""HTTP routes, one module per resource; each exports `routes` (app.py mounts them)."""
