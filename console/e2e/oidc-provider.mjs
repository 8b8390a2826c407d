// A real OpenID provider for the console's sign-in test: node-oidc-provider (an OpenID
// Certified implementation), with its own login form (devInteractions: any name and password),
// one public client (the console; PKCE) and JWT access tokens for the `mivaa` resource carrying
// the claims the gateway checks (tenant, sub, scope).
//
//   node e2e/oidc-provider.mjs <port> <console origin> <tenant>
// prints "ready <issuer>" when it listens on 127.0.0.1:<port>.
import { generateKeyPairSync } from "node:crypto";
import Provider from "oidc-provider";

const [port, consoleOrigin, tenant] = process.argv.slice(2);
if (!port || !consoleOrigin || !tenant) {
  console.error("usage: node e2e/oidc-provider.mjs <port> <console origin> <tenant>");
  process.exit(2);
}
const issuer = `http://127.0.0.1:${port}`;
const signingKey = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ format: "jwk" });

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: "mivaa-console",
      redirect_uris: [`${consoleOrigin}/`],
      response_types: ["code"],
      grant_types: ["authorization_code"],
      token_endpoint_auth_method: "none",
    },
  ],
  jwks: { keys: [{ ...signingKey, kid: "test-key", use: "sig", alg: "RS256" }] },
  scopes: ["openid", "read", "write"],
  features: {
    devInteractions: { enabled: true },
    resourceIndicators: {
      enabled: true,
      // The console asks for no resource (its audience "mivaa" is not a URI): this one it gets.
      defaultResource: () => "urn:mivaa:api",
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: "read write",
        audience: "mivaa",
        accessTokenTTL: 3600,
        accessTokenFormat: "jwt",
        jwt: { sign: { alg: "RS256" } },
      }),
    },
  },
  findAccount: (_ctx, id) => ({ accountId: id, claims: () => ({ sub: id }) }),
  extraTokenClaims: () => ({ tenant }),
  clientBasedCORS: (_ctx, origin) => origin === consoleOrigin,
});

provider.listen(Number(port), "127.0.0.1", () => console.log(`ready ${issuer}`));
process.on("SIGTERM", () => process.exit(0));
