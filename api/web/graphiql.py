"""`/graphql` for a browser: GraphiQL from the app's own files (`api.web.pages`), not
strawberry's page, which loads React and GraphiQL from a CDN."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse

from api.jsonio import GraphQLApp
from api.web.pages import graphiql_page


class WebGraphQLApp(GraphQLApp):
    """The `/graphql` router, with GraphiQL served from local assets."""

    @property
    def graphql_ide_html(self) -> str:
        return graphiql_page()

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        return HTMLResponse(graphiql_page(), headers={"Cache-Control": "no-cache"})
