"""The browser side of the API: the workbench page and its files, GraphiQL from local
assets, signing in with a session cookie, and the headers and cross-site rule that
protect them (`pages`, `graphiql`, `assets`, `security`; sessions in `api.session`)."""
