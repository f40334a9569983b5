// Baseline: the TypeScript SDK's server on Express, a server per client, as its own examples
// build it (`createMcpExpressApp`, so Host checks on loopback like the Python servers).
//
//   node bench/servers/ts_sdk.mjs PORT NODE_MODULES
//
// GET /sse + POST /messages: an McpServer and an SSEServerTransport per stream.
// /mcp: an McpServer and a StreamableHTTPServerTransport per MCP session, DELETE ends it.
// The packages come from NODE_MODULES (tests/clients/node_modules, pinned there).
import { randomUUID } from "node:crypto";
import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const [port, nodeModules] = process.argv.slice(2);
const require = createRequire(join(nodeModules, "bench.cjs"));
const load = (name) => import(pathToFileURL(require.resolve(name)).href);

const { McpServer } = await load("@modelcontextprotocol/sdk/server/mcp.js");
const { SSEServerTransport } = await load("@modelcontextprotocol/sdk/server/sse.js");
const { StreamableHTTPServerTransport } = await load("@modelcontextprotocol/sdk/server/streamableHttp.js");
const { createMcpExpressApp } = await load("@modelcontextprotocol/sdk/server/express.js");
const { z } = await load("zod");

// The benchmark's tool, as the Python plugin's `add(a: int, b: int) -> int` is served.
function newServer() {
  const server = new McpServer({ name: "bench", version: "0" });
  server.registerTool(
    "add",
    {
      description: "Add two integers.",
      inputSchema: { a: z.number().int(), b: z.number().int() },
      outputSchema: { result: z.number().int() },
    },
    async ({ a, b }) => ({
      content: [{ type: "text", text: String(a + b) }],
      structuredContent: { result: a + b },
    }),
  );
  return server;
}

const app = createMcpExpressApp({ host: "127.0.0.1" });

const sseTransports = new Map();
app.get("/sse", async (req, res) => {
  const transport = new SSEServerTransport("/messages", res);
  sseTransports.set(transport.sessionId, transport);
  res.on("close", () => sseTransports.delete(transport.sessionId));
  await newServer().connect(transport);
});
app.post("/messages", async (req, res) => {
  const transport = sseTransports.get(String(req.query.sessionId));
  if (transport === undefined) {
    res.status(404).send("Session not found");
    return;
  }
  await transport.handlePostMessage(req, res, req.body);
});

const streamableTransports = new Map();
async function handleStreamable(req, res) {
  const sessionId = req.headers["mcp-session-id"];
  let transport = sessionId === undefined ? undefined : streamableTransports.get(sessionId);
  if (transport === undefined) {
    if (sessionId !== undefined) {
      res.status(404).send("Session not found");
      return;
    }
    transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => streamableTransports.set(id, transport),
    });
    transport.onclose = () => streamableTransports.delete(transport.sessionId);
    await newServer().connect(transport);
  }
  await transport.handleRequest(req, res, req.body);
}
app.post("/mcp", handleStreamable);
app.get("/mcp", handleStreamable);
app.delete("/mcp", handleStreamable);

const listener = app.listen(Number(port), "127.0.0.1");
process.on("SIGTERM", () => {
  listener.close();
  process.exit(0);
});
