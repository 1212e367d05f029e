"""The HTTP API: Starlette app factory, middleware, routes, error envelope."""
