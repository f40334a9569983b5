// A real OpenID provider for the OAuth tests: oidc-provider (certified by the OpenID
// Foundation), on a loopback port, with the clients, keys and groups a test gives it.
//
//   node oidc_provider.mjs SETTINGS_JSON_FILE
//
// The settings file holds {"issuer", "port", "keys" (private JWKs, the first signs),
// "clients" (oidc-provider client metadata, each with an optional "groups" list and an
// optional "access_token_ttl_s"), "scopes", "opaque_resources"}. An access token asked for
// with a resource indicator (RFC 8707) is for that resource ("aud"): a JWT, or an opaque
// token to introspect (RFC 7662) when the resource is one of "opaque_resources". Prints "ready" on stdout once it listens; stops on SIGTERM.
// A test rotates the keys by restarting it on the same port with others.
import { readFileSync } from "node:fs";
import Provider from "oidc-provider";

const settings = JSON.parse(readFileSync(process.argv[2], "utf8"));
const byClient = new Map(settings.clients.map((client) => [client.client_id, client]));
const ownMetadata = new Set(["groups", "access_token_ttl_s"]);

function registered(client) {
  return Object.fromEntries(Object.entries(client).filter(([key]) => !ownMetadata.has(key)));
}

function groupsOf(clientId) {
  return byClient.get(clientId)?.groups;
}

const provider = new Provider(settings.issuer, {
  clients: settings.clients.map(registered),
  jwks: { keys: settings.keys },
  scopes: ["openid", "offline_access", ...settings.scopes],
  claims: { openid: ["sub"], groups: ["groups"] },
  // Users of the authorization-code flow (devInteractions login form): any login name is a
  // user, in the groups of the client they sign in to.
  async findAccount(ctx, sub) {
    return { accountId: sub, async claims() { return { sub }; } };
  },
  async extraTokenClaims(ctx, token) {
    const groups = groupsOf(token.clientId);
    return groups ? { groups } : undefined;
  },
  features: {
    devInteractions: { enabled: true },
    clientCredentials: { enabled: true },
    introspection: { enabled: true, allowedPolicy: async () => true },
    registration: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: (ctx, client, oneOf) => oneOf ?? undefined,
      useGrantedResource: () => true,
      getResourceServerInfo: (ctx, resource, client) => ({
        scope: settings.scopes.join(" "),
        audience: resource,
        accessTokenFormat: (settings.opaque_resources ?? []).includes(resource) ? "opaque" : "jwt",
        accessTokenTTL: byClient.get(client.clientId)?.access_token_ttl_s ?? 300,
      }),
    },
  },
  pkce: { required: () => true },
  ttl: {
    ClientCredentials: (ctx, token, client) => byClient.get(client.clientId)?.access_token_ttl_s ?? 300,
  },
});

provider.listen(settings.port, "127.0.0.1", () => {
  console.log("ready");
});
process.on("SIGTERM", () => process.exit(0));
