"""Alliance Graph: the shared investigation graph against counterfeits."""
