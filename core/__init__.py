"""The bottom of the project: settings from the environment, private files, the state
the local Neo4j server leaves for its clients, and the root of every error the project
raises on purpose. It imports nothing of the project, so every other package may use it.
"""
