"""Alliance Graph: api."""
