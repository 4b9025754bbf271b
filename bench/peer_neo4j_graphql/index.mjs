// Peer GraphQL server for bench/api.py: the Neo4j GraphQL Library on Apollo Server.
// Environment: NEO4J_URI (required), NEO4J_USER/NEO4J_PASSWORD (optional, no auth when
// unset), NEO4J_DATABASE (default neo4j), PORT (default 4000). Listens on 127.0.0.1 only.
import { readFileSync } from "node:fs";
import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";
import { Neo4jGraphQL } from "@neo4j/graphql";
import neo4j from "neo4j-driver";

const uri = process.env.NEO4J_URI;
if (!uri) {
  console.error("NEO4J_URI is not set: give the bolt address of the database to serve");
  process.exit(2);
}
const auth = process.env.NEO4J_USER
  ? neo4j.auth.basic(process.env.NEO4J_USER, process.env.NEO4J_PASSWORD ?? "")
  : undefined;
const driver = neo4j.driver(uri, auth, { maxConnectionPoolSize: 32 });
const database = process.env.NEO4J_DATABASE ?? "neo4j";
const typeDefs = readFileSync(new URL("./typeDefs.graphql", import.meta.url), "utf8");

const neoSchema = new Neo4jGraphQL({ typeDefs, driver });
const schema = await neoSchema.getSchema();
const server = new ApolloServer({ schema, introspection: true });
const port = Number(process.env.PORT ?? 4000);
const { url } = await startStandaloneServer(server, {
  listen: { host: "127.0.0.1", port },
  context: async () => ({ sessionConfig: { database } }),
});
console.log(`ready ${url}`);

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, async () => {
    await server.stop();
    await driver.close();
    process.exit(0);
  });
}
