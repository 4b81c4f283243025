"""HTTP routes, one module per resource. Routes stay thin: parse → domain → map."""
