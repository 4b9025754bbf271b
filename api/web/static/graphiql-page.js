// GraphiQL at /graphql, from the app's own copies of React and GraphiQL (no CDN).
// Requests go to the same origin with the browser's session cookie; a token in the
// headers pane (`{"Authorization": "Bearer ..."}`) is used instead when given.
(function () {
  "use strict";
  var fetcher = GraphiQL.createFetcher({ url: "/graphql" });
  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(React.createElement(GraphiQL, {
    fetcher: fetcher,
    defaultQuery: "# Signed in in this browser? Then run this (Ctrl-Enter).\n" +
      "{ search(text: \"加工点\", first: 5) { label key displayName score } }\n",
  }));
})();
