// A client on the TypeScript SDK (@modelcontextprotocol/sdk), the stack Cursor builds on,
// that keeps its session open and lets the SDK follow the server's tool list: the Client's
// `listChanged.tools` option, with autoRefresh, lists the tools again on each
// notifications/tools/list_changed.
//
//   node ts_sdk_list_changed.mjs URL TRANSPORT TOOL ARGUMENTS_JSON
//
// TRANSPORT is "sse" or "http". Prints {"ready": [tool names]} once connected, then waits
// for the SDK to report a changed list, calls TOOL on the same session and prints
// {"tools": [tool names], "result": ...}. Any failure goes to stderr with exit code 1.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const [url, transportName, toolName, argumentsJson] = process.argv.slice(2);
if (!["sse", "http"].includes(transportName) || !toolName) {
  console.error("usage: node ts_sdk_list_changed.mjs URL sse|http TOOL ARGUMENTS_JSON");
  process.exit(2);
}

let changed;
const refreshed = new Promise((resolve, reject) => {
  changed = (error, tools) => (error ? reject(error) : resolve(tools));
});
const client = new Client(
  { name: "mcp-host-tests-ts-sdk-list-changed", version: "1.0.0" },
  { listChanged: { tools: { onChanged: (error, tools) => changed(error, tools) } } },
);
const transport =
  transportName === "sse" ? new SSEClientTransport(new URL(url)) : new StreamableHTTPClientTransport(new URL(url));
await client.connect(transport);
try {
  const { tools } = await client.listTools();
  process.stdout.write(JSON.stringify({ ready: tools.map((tool) => tool.name) }) + "\n");
  const now = await refreshed;
  const result = await client.callTool({ name: toolName, arguments: JSON.parse(argumentsJson ?? "{}") });
  process.stdout.write(JSON.stringify({ tools: now.map((tool) => tool.name), result }) + "\n");
} finally {
  if (transportName === "http") await client.transport.terminateSession();
  await client.close();
}
