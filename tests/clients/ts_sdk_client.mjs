// A client on the TypeScript SDK (@modelcontextprotocol/sdk), the stack Cursor and most
// editors build on: connect, list the tools, call one, and print what happened as JSON.
//
//   node ts_sdk_client.mjs URL TRANSPORT TOOL ARGUMENTS_JSON
//
// TRANSPORT is "sse" (HTTP+SSE), "http" (Streamable HTTP) or "auto": Streamable HTTP first
// and, if the server refuses it, HTTP+SSE on the same URL, the fallback the SDK documents
// and today's clients use for a configured URL.
//
// Prints {"transport", "server", "tools", "result"} on stdout; any failure
// goes to stderr with exit code 1.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const [url, transportName, toolName, argumentsJson] = process.argv.slice(2);
if (!["sse", "http", "auto"].includes(transportName) || !toolName) {
  console.error("usage: node ts_sdk_client.mjs URL sse|http|auto TOOL ARGUMENTS_JSON");
  process.exit(2);
}

function newClient() {
  return new Client({ name: "mcp-host-tests-ts-sdk", version: "1.0.0" });
}

async function connect() {
  if (transportName === "sse") {
    const client = newClient();
    await client.connect(new SSEClientTransport(new URL(url)));
    return { client, transport: "sse" };
  }
  const client = newClient();
  try {
    await client.connect(new StreamableHTTPClientTransport(new URL(url)));
    return { client, transport: "http" };
  } catch (error) {
    if (transportName === "http") throw error;
    console.error(`Streamable HTTP refused (${error.message}); falling back to HTTP+SSE`);
  }
  const fallback = newClient();
  await fallback.connect(new SSEClientTransport(new URL(url)));
  return { client: fallback, transport: "sse" };
}

const { client, transport } = await connect();
try {
  const { tools } = await client.listTools();
  const result = await client.callTool({ name: toolName, arguments: JSON.parse(argumentsJson ?? "{}") });
  const output = {
    transport,
    server: client.getServerVersion(),
    tools,
    result,
  };
  process.stdout.write(JSON.stringify(output) + "\n");
} finally {
  // A Streamable HTTP session lives until the client ends it (DELETE); an SSE session ends
  // with its stream, which close() drops.
  if (transport === "http") await client.transport.terminateSession();
  await client.close();
}
