"""Resource types, OpenAPI documents and object validation."""
