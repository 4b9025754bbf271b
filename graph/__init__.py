"""Alliance Graph: graph."""
