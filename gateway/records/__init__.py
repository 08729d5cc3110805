"""The domain's value types (frozen dataclasses, no I/O).

The domain owns them; they live in this leaf package, below storage, so that
storage can return the domain's own types and the api can convert them
without either importing the other. Nothing here imports the rest of the
gateway.
"""
