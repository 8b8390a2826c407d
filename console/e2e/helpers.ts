// Shared by the specs: tokens and files from tests/console/test_console.py, axe, screenshots.
import { expect, type Page } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";

export const env = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run through tests/console/test_console.py`);
  return value;
};
export const SHOTS = "test-artifacts/screenshots";

export async function checkAccessible(page: Page, screen: string) {
  const results = await new AxeBuilder({ page }).analyze();
  const problems = results.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.length})`);
  expect(problems, `axe violations on ${screen}`).toEqual([]);
}

export async function shot(page: Page, name: string) {
  await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
}

/** Errors in the browser console and failed responses; with `origin`, only those of pages and
 * resources on it (another site's page that the test passes through, as a sign-in provider's, is
 * not the console's to answer for). */
export function watchConsole(page: Page, origin?: string): string[] {
  const errors: string[] = [];
  const ours = (url: string) => !origin || url.startsWith(origin);
  page.on("console", (m) => m.type() === "error" && ours(m.location().url || page.url()) && errors.push(m.text()));
  page.on("pageerror", (e) => ours(page.url()) && errors.push(e.message));
  page.on("response", (r) => r.status() >= 400 && ours(r.url()) && errors.push(`${r.status()} ${r.url()}`));
  return errors;
}

export async function signInWithToken(page: Page, token: string) {
  await page.goto("/");
  await page.getByLabel("JWT (issuer mivaa-dev, audience mivaa)").fill(token);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
}

export async function search(page: Page, query: string) {
  await page.getByRole("button", { name: "Search", exact: true }).first().click();
  await page.getByLabel("Search query").fill(query);
  await page.getByRole("search").getByRole("button", { name: "Search" }).click();
}


/** `count` grpc-web Ask calls at once with `token` (AskRequest{question}: field 1, one frame), to spend its budget. */
export async function drainAnswerBudget(page: Page, token: string, count: number) {
  const question = new TextEncoder().encode("anything?");
  const message = [0x0a, question.length, ...question];
  const frame = Buffer.from([0, 0, 0, 0, message.length, ...message]);
  const headers = {
    authorization: `Bearer ${token}`,
    "content-type": "application/grpc-web+proto",
    "x-grpc-web": "1",
  };
  await Promise.all(
    Array.from({ length: count }, () =>
      page.request.post("/mivaa.answer.v1.AnswerService/Ask", { headers, data: frame }).catch(() => undefined),
    ),
  );
}
