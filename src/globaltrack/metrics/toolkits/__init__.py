"""One module per official toolkit; each registers its protocol objects with `register_protocol`."""
