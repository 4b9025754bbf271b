"""Alliance Graph: loaders."""
