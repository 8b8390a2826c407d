// Sign-in at a real OpenID provider (e2e/oidc-provider.mjs, started by tests/console/test_console.py
// and named to the gateway): authorization code + PKCE in the browser, the provider's own login
// form, back to the console with the provider's access token, which the gateway verifies against
// the provider's keys and whose tenant the console shows and the API enforces.
import { expect, test } from "@playwright/test";
import { checkAccessible, env, shot, watchConsole } from "./helpers";

test("signs in at the OpenID provider and calls the API with its token", async ({ page }) => {
  const errors = watchConsole(page, env("MIVAA_CONSOLE_URL"));
  const issuer = new URL(env("MIVAA_OIDC_ISSUER"));
  const tenant = env("MIVAA_OIDC_TENANT");
  await page.goto("/");
  const button = page.getByRole("button", { name: `Sign in with ${issuer.host}` });
  await expect(button).toBeVisible();
  await checkAccessible(page, "sign-in with a provider");
  await shot(page, "signin-oidc");

  await button.click();
  await page.waitForURL((url) => url.origin === issuer.origin);
  await page.locator('input[name="login"]').fill("ada.keeper");
  await page.locator('input[name="password"]').fill("any password");
  await page.getByRole("button", { name: "Sign-in" }).click();
  await expect(page.getByRole("heading", { name: "Authorize" })).toBeVisible(); // the provider's consent
  await page.getByRole("button", { name: "Continue" }).click();

  // Back on the console's origin, signed in, with the code and state gone from the address.
  const who = page.getByTestId("who");
  await expect(who).toContainText(`tenant ${tenant}`);
  await expect(who).toContainText("scopes read, write");
  expect(new URL(page.url()).search).toBe("");

  // The gateway takes the provider's token: this tenant's (empty) documents, nobody else's.
  await page.getByRole("button", { name: "Documents", exact: true }).click();
  await expect(page.getByText("No documents.")).toBeVisible();
  await expect(page.getByRole("alert")).toHaveCount(0);
  await shot(page, "oidc-signed-in");

  // An answer that does not belong to a sign-in of this tab is refused in plain words.
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.goto("/?code=forged&state=forged");
  await expect(page.getByRole("alert")).toContainText("does not match a sign-in started in this tab");
  await expect(button).toBeVisible();
  expect(errors).toEqual([]);
});
