// A machine client on the TypeScript SDK (Cursor's stack) that signs in by itself: the SDK's
// own OAuth flow with client credentials. It meets the host's 401, reads the resource
// metadata, finds the provider, gets a token for the host and lists the tools, then calls one.
//
//   node ts_sdk_oauth_client.mjs URL sse|http ISSUER CLIENT_ID CLIENT_SECRET SCOPE TOOL
//
// The client secret comes on the command line only because the test's provider made it up.
// Prints {"transport", "tools", "result"} on stdout; any failure goes to stderr, exit code 1.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { ClientCredentialsProvider } from "@modelcontextprotocol/sdk/client/auth-extensions.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const [url, transportName, issuer, clientId, clientSecret, scope, toolName] = process.argv.slice(2);
if (!["sse", "http"].includes(transportName) || !toolName) {
  console.error("usage: node ts_sdk_oauth_client.mjs URL sse|http ISSUER CLIENT_ID CLIENT_SECRET SCOPE TOOL");
  process.exit(2);
}

const authProvider = new ClientCredentialsProvider({ clientId, clientSecret, scope, expectedIssuer: issuer });
const Transport = transportName === "sse" ? SSEClientTransport : StreamableHTTPClientTransport;
const client = new Client({ name: "mcp-host-tests-ts-sdk-oauth", version: "1.0.0" });
await client.connect(new Transport(new URL(url), { authProvider }));
try {
  const { tools } = await client.listTools();
  const result = await client.callTool({ name: toolName, arguments: {} });
  process.stdout.write(JSON.stringify({ transport: transportName, tools, result }) + "\n");
} finally {
  await client.close();
}
