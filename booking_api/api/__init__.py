"""HTTP layer: routers, typed dependencies and middleware. Routers call services; they hold
no business logic."""
