// The signed-in token: read from a pasted JWT or from the dev-token link `mivaa up` prints
// (https://host/#dev-token=...; a fragment never reaches a server or its logs). Kept in
// sessionStorage, so closing the tab signs out.
const STORAGE_KEY = "mivaa.token";
const DEV_TOKEN_KEY = "mivaa.dev-token";

export interface Session {
  token: string;
  subject: string;
  tenant: string;
  scopes: string[];
  expiresAt: number; // ms since the epoch
}

function base64UrlDecode(part: string): string {
  const padded = part.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(part.length / 4) * 4, "=");
  return new TextDecoder().decode(Uint8Array.from(atob(padded), (c) => c.charCodeAt(0)));
}

/** The claims the console shows; the gateway verifies the signature, the page only reads. */
export function parseToken(token: string): Session {
  const parts = token.trim().split(".");
  if (parts.length !== 3) throw new Error("This is not a JWT (it needs three dot-separated parts).");
  let claims: Record<string, unknown>;
  try {
    claims = JSON.parse(base64UrlDecode(parts[1]));
  } catch {
    throw new Error("The token's payload cannot be read.");
  }
  if (typeof claims.exp !== "number") throw new Error("The token has no expiry (exp).");
  if (typeof claims.tenant !== "string" || !claims.tenant) throw new Error("The token names no tenant.");
  const scope = typeof claims.scope === "string" ? claims.scope : "";
  return {
    token: token.trim(),
    subject: typeof claims.sub === "string" ? claims.sub : "",
    tenant: claims.tenant,
    scopes: scope.split(" ").filter(Boolean),
    expiresAt: claims.exp * 1000,
  };
}

export function isExpired(session: Session, now = Date.now()): boolean {
  return session.expiresAt <= now;
}

export function loadSession(): Session | null {
  const token = sessionStorage.getItem(STORAGE_KEY);
  if (!token) return null;
  try {
    const session = parseToken(token);
    return isExpired(session) ? null : session;
  } catch {
    return null;
  }
}

export function saveSession(session: Session | null): void {
  if (session) sessionStorage.setItem(STORAGE_KEY, session.token);
  else sessionStorage.removeItem(STORAGE_KEY);
}

/** Moves a dev token from the URL fragment into sessionStorage and clears the fragment. */
export function takeDevTokenFromUrl(): string | null {
  const match = /(?:^#|&)dev-token=([^&]+)/.exec(window.location.hash);
  if (match) {
    sessionStorage.setItem(DEV_TOKEN_KEY, decodeURIComponent(match[1]));
    history.replaceState(null, "", window.location.pathname + window.location.search);
  }
  return sessionStorage.getItem(DEV_TOKEN_KEY);
}
