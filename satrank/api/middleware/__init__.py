"""Pure ASGI middleware around every route (app.py orders them)."""
