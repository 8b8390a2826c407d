// Sign-in at an OpenID provider: the authorization code flow with PKCE (RFC 7636), for a
// public client (no secret in a page). The gateway says which provider at GET /config.json;
// the provider's access token (audience mivaa, with tenant, sub and scope claims) is then used
// like any other token, and the gateway verifies it against the provider's keys.

export interface OidcConfig {
  issuer: string;
  clientId: string;
  audience: string;
  scope: string;
}

/** The pending sign-in of this tab, kept across the redirect to the provider and back. */
interface Pending {
  state: string;
  verifier: string;
  tokenEndpoint: string;
  clientId: string;
  audience: string;
  redirectUri: string;
}

const PENDING_KEY = "mivaa.oidc-pending";

/** The console's settings from the gateway; none (no provider) when it serves none, as Vite's dev server. */
export async function loadOidcConfig(fetcher: typeof fetch = fetch): Promise<OidcConfig | null> {
  try {
    const response = await fetcher("/config.json", { cache: "no-cache" });
    if (!response.ok) return null;
    const body = (await response.json()) as { oidc?: OidcConfig | null };
    return body.oidc ?? null;
  } catch {
    return null;
  }
}

function base64Url(bytes: Uint8Array): string {
  let text = "";
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function randomString(): string {
  return base64Url(crypto.getRandomValues(new Uint8Array(32)));
}

/** The S256 code challenge of a verifier. */
export async function codeChallenge(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return base64Url(new Uint8Array(digest));
}

async function discover(issuer: string): Promise<{ authorization_endpoint: string; token_endpoint: string }> {
  const url = `${issuer.replace(/\/$/, "")}/.well-known/openid-configuration`;
  let response: Response;
  try {
    response = await fetch(url);
  } catch {
    throw new Error(`The sign-in provider at ${issuer} cannot be reached.`);
  }
  if (!response.ok) throw new Error(`The sign-in provider at ${issuer} answered ${response.status}.`);
  return response.json();
}

/**
 * RFC 8707 asks for a token for one API by its absolute URI; an audience that is a plain name
 * ("mivaa") is left to the provider's default for this client instead (as most providers do).
 */
export function resourceParameter(audience: string): { resource?: string } {
  return URL.canParse(audience) ? { resource: audience } : {};
}

/** Leaves the page for the provider's sign-in; it comes back to this origin with ?code&state. */
export async function startOidcSignIn(config: OidcConfig): Promise<void> {
  const endpoints = await discover(config.issuer);
  const pending: Pending = {
    state: randomString(),
    verifier: randomString(),
    tokenEndpoint: endpoints.token_endpoint,
    clientId: config.clientId,
    audience: config.audience,
    redirectUri: `${window.location.origin}/`,
  };
  sessionStorage.setItem(PENDING_KEY, JSON.stringify(pending));
  const query = new URLSearchParams({
    response_type: "code",
    client_id: config.clientId,
    redirect_uri: pending.redirectUri,
    scope: config.scope,
    state: pending.state,
    code_challenge: await codeChallenge(pending.verifier),
    code_challenge_method: "S256",
    ...resourceParameter(config.audience),
  });
  window.location.assign(`${endpoints.authorization_endpoint}?${query}`);
}

/** What the provider's answer in the address bar asks for: nothing, an error to show, or a code. */
export function readCallback(search: string): { error: string } | { code: string; state: string } | null {
  const params = new URLSearchParams(search);
  if (params.has("error")) {
    const reason = params.get("error_description") || params.get("error");
    return { error: `The sign-in provider refused: ${reason}.` };
  }
  const code = params.get("code");
  const state = params.get("state");
  return code && state ? { code, state } : null;
}

/**
 * Finishes a sign-in the provider sent back here: the access token, or null when the address
 * carries no answer. Throws an Error in plain words when the answer is refused or does not
 * belong to this tab's request. The answer is removed from the address bar either way.
 */
export async function finishOidcSignIn(): Promise<string | null> {
  const answer = readCallback(window.location.search);
  if (!answer) return null;
  history.replaceState(null, "", window.location.pathname + window.location.hash);
  const stored = sessionStorage.getItem(PENDING_KEY);
  sessionStorage.removeItem(PENDING_KEY);
  if ("error" in answer) throw new Error(answer.error);
  const pending = stored ? (JSON.parse(stored) as Pending) : null;
  if (!pending || pending.state !== answer.state) {
    throw new Error("This sign-in answer does not match a sign-in started in this tab: sign in again.");
  }
  const response = await fetch(pending.tokenEndpoint, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      code: answer.code,
      redirect_uri: pending.redirectUri,
      client_id: pending.clientId,
      code_verifier: pending.verifier,
      ...resourceParameter(pending.audience),
    }),
  });
  const body = (await response.json().catch(() => ({}))) as { access_token?: string; error_description?: string };
  if (!response.ok || !body.access_token) {
    throw new Error(`The sign-in provider gave no token: ${body.error_description ?? response.status}.`);
  }
  return body.access_token;
}
