import { describe, expect, it } from "vitest";
import { codeChallenge, loadOidcConfig, readCallback, resourceParameter } from "./oidc";

describe("OpenID sign-in", () => {
  it("derives the S256 challenge of RFC 7636's example verifier", async () => {
    expect(await codeChallenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")).toBe(
      "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
    );
  });

  it("names the API as an RFC 8707 resource only when its audience is a URI", () => {
    expect(resourceParameter("https://api.example/mivaa")).toEqual({ resource: "https://api.example/mivaa" });
    expect(resourceParameter("urn:mivaa:api")).toEqual({ resource: "urn:mivaa:api" });
    expect(resourceParameter("mivaa")).toEqual({});
  });

  it("reads the provider's answer from the address bar", () => {
    expect(readCallback("")).toBeNull();
    expect(readCallback("?code=abc&state=xyz")).toEqual({ code: "abc", state: "xyz" });
    expect(readCallback("?code=abc")).toBeNull(); // no state: not an answer to a request of ours
    expect(readCallback("?error=access_denied&error_description=The+user+said+no")).toEqual({
      error: "The sign-in provider refused: The user said no.",
    });
    expect(readCallback("?error=login_required")).toEqual({ error: "The sign-in provider refused: login_required." });
  });

  it("offers no provider when the gateway serves no settings", async () => {
    const answering = (status: number, body: unknown) => async () =>
      new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
    const config = { issuer: "https://id.example", clientId: "console", audience: "mivaa", scope: "openid read" };
    expect(await loadOidcConfig(answering(200, { oidc: config }))).toEqual(config);
    expect(await loadOidcConfig(answering(200, { oidc: null }))).toBeNull();
    expect(await loadOidcConfig(answering(404, {}))).toBeNull();
    expect(await loadOidcConfig(async () => new Response("<!doctype html>", { status: 200 }))).toBeNull();
    expect(
      await loadOidcConfig(async () => {
        throw new TypeError("offline");
      }),
    ).toBeNull();
  });
});
