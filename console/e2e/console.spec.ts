import { expect, test } from "@playwright/test";
import { checkAccessible, drainAnswerBudget, env, search, shot, signInWithToken, watchConsole } from "./helpers";

test.describe.configure({ mode: "serial" });

test("an expired token leads back to sign-in", async ({ page }) => {
  await signInWithToken(page, env("MIVAA_SHORT_TOKEN"));
  await expect(page.getByTestId("who")).toContainText("tenant default");
  await expect(page.getByRole("alert")).toContainText("no longer valid", { timeout: 40_000 });
  await expect(page.getByRole("button", { name: "Sign in", exact: true })).toBeVisible();
  await shot(page, "00-expired");
  await page.getByLabel("JWT (issuer mivaa-dev, audience mivaa)").fill(env("MIVAA_SHORT_TOKEN"));
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page.getByText("This token has expired: get a new one.")).toBeVisible();
});

test("sign in with the dev token, upload, search, ask, list", async ({ page }) => {
  const errors = watchConsole(page);
  await page.goto(`/#dev-token=${env("MIVAA_DEV_TOKEN")}`);
  await expect(page).toHaveURL(/\/$/); // the token leaves the address bar at once
  await checkAccessible(page, "sign-in");
  await shot(page, "01-sign-in");
  await page.getByRole("button", { name: "Sign in with the dev token" }).click();
  await expect(page.getByTestId("who")).toContainText("tenant default");
  await expect(page.getByTestId("who")).toContainText("read, write");

  // Upload two at once: live progress to done; the encrypted one asks for its password.
  await page.getByTestId("file-input").setInputFiles([env("MIVAA_TEST_PDF"), env("MIVAA_ENCRYPTED_PDF")]);
  const locked = page.getByTestId("upload-row").filter({ hasText: "console-locked.pdf" });
  await expect(locked.getByRole("alert")).toContainText("encrypted: enter its password", { timeout: 60_000 });
  await shot(page, "02-upload-password");
  await locked.getByLabel("Password for console-locked.pdf").fill(env("MIVAA_ENCRYPTED_PASSWORD"));
  await locked.getByRole("button", { name: "Upload again" }).click();
  await expect(locked).toHaveAttribute("data-status", "done", { timeout: 150_000 });
  const row = page.getByTestId("upload-row").filter({ hasText: "console-upload.pdf" });
  await expect(row).toHaveAttribute("data-status", /uploading|watching|done/);
  await expect(row).toHaveAttribute("data-status", "done", { timeout: 150_000 });
  await expect(row).toContainText(/Done · 3\/3 pages · \d+ chunks/);
  // Two files at once are one batch: its aggregate, live from WatchBatch, reaches done above the rows
  // (the encrypted file joined when it came again with its password).
  const batch = page.getByTestId("batch").first();
  await expect(batch).toHaveAttribute("data-state", "done", { timeout: 60_000 });
  await expect(batch.getByRole("progressbar", { name: "Progress of batch 2 files" })).toBeVisible();
  await expect(batch.getByTestId("batch-figures")).toContainText("2 of 2 documents finished");
  await checkAccessible(page, "upload");
  await shot(page, "03-upload-done");

  // Search: the hit with its highlighted words.
  await search(page, env("MIVAA_TEST_PHRASE"));
  const hit = page.getByTestId("hit").first();
  await expect(hit).toContainText(env("MIVAA_TEST_PHRASE"));
  await expect(hit.locator("mark").first()).toBeVisible();
  await checkAccessible(page, "search");
  await shot(page, "04-search");

  // Ask: a streamed answer with sources and a citation.
  await page.getByRole("button", { name: "Ask", exact: true }).first().click();
  await page.getByLabel("Question").fill(env("MIVAA_TEST_QUESTION"));
  await page.getByRole("button", { name: "Ask", exact: true }).last().click();
  await expect(page.getByTestId("citation").first()).toBeVisible({ timeout: 60_000 });
  await expect(page.getByRole("heading", { name: "Sources" })).toBeVisible();
  await checkAccessible(page, "ask");
  await shot(page, "05-ask");

  // Documents: the upload is listed.
  await page.getByRole("button", { name: "Documents", exact: true }).click();
  await expect(page.getByTestId("document-row").first()).toContainText("ready");
  await checkAccessible(page, "documents");
  await shot(page, "06-documents");

  // Phone width.
  await page.setViewportSize({ width: 390, height: 844 });
  await shot(page, "07-documents-phone");
  expect(errors).toEqual([]);
});

test("another tenant sees none of it, and a burst over the rate limit says so", async ({ page }) => {
  await signInWithToken(page, env("MIVAA_OTHER_TOKEN"));
  await expect(page.getByTestId("who")).toContainText("tenant other");
  await search(page, env("MIVAA_TEST_PHRASE"));
  await expect(page.getByText("No hits.")).toBeVisible();
  await page.getByRole("button", { name: "Documents", exact: true }).click();
  await expect(page.getByText("No documents.")).toBeVisible();

  // Answers have the smallest budget per subject (burst 10, 5 more each second). The screen runs one
  // call at a time (a new question cancels the last), so the burst comes from beside it: thirty asks
  // with the same token empty the bucket, then the screen's own ask, a moment later, is refused. The
  // bucket refills once a second, which can fall between the two, so a few rounds are allowed.
  await page.getByRole("button", { name: "Ask", exact: true }).first().click();
  await page.getByLabel("Question").fill("anything at all?");
  const alert = page.getByRole("alert");
  for (let round = 0; round < 5 && !(await alert.isVisible()); round++) {
    const burst = drainAnswerBudget(page, env("MIVAA_OTHER_TOKEN"), 30);
    await page.waitForTimeout(150);
    await page.getByLabel("Question").press("Enter");
    await alert.waitFor({ timeout: 3_000 }).catch(() => undefined);
    await burst;
  }
  await expect(alert).toContainText("Too many requests");
  await shot(page, "08-rate-limited");
});

test("delete asks first, then removes the document", async ({ page }) => {
  await signInWithToken(page, env("MIVAA_DEV_TOKEN"));
  await page.getByRole("button", { name: "Documents", exact: true }).click();
  // Only this run's two uploads: in a full test run other tests leave documents in the same tenant.
  const rows = page.getByTestId("document-row").filter({ hasText: /Generated console(test|locked) document/ });
  await expect(rows).toHaveCount(2);
  await rows.first().getByRole("button", { name: /^Delete/ }).click();
  await expect(page.getByRole("dialog")).toBeVisible();
  await checkAccessible(page, "delete dialog");
  await shot(page, "09-delete-confirm");
  await page.getByRole("dialog").getByRole("button", { name: "Delete" }).click();
  await expect(rows).toHaveCount(1);
});
