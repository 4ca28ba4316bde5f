"""HTTP layer of the service: dependencies, request parsing and one router per resource."""
