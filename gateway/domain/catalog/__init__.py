"""The catalog: products, search and imports, with cache-aside reads (service) and input rules."""
