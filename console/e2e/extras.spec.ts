// Image search, the admin screen, and a watched upload that survives a network drop.
import { existsSync, writeFileSync } from "node:fs";
import { expect, test, type Page } from "@playwright/test";
import { checkAccessible, env, shot, signInWithToken, watchConsole } from "./helpers";

test.describe.configure({ mode: "serial" });

async function uploadAndWait(page: Page, path: string, file: string) {
  await page.getByTestId("file-input").setInputFiles([path]);
  await expect(page.getByTestId("upload-row").filter({ hasText: file })).toHaveAttribute("data-status", "done", { timeout: 180_000 });
}

test("image search by a description and by a dropped picture opens the image's page at its box", async ({ page }) => {
  const errors = watchConsole(page);
  await signInWithToken(page, env("MIVAA_DEV_TOKEN"));
  await expect(page.getByRole("button", { name: "Admin" })).toHaveCount(0); // read/write token: no admin screen
  await uploadAndWait(page, env("MIVAA_IMAGES_PDF"), "console-images.pdf");

  await page.getByRole("button", { name: "Images", exact: true }).click();
  // The model is named, and a random-weight test model is said to be one.
  await expect(page.getByTestId("image-model")).toContainText("tiny-clip");
  await expect(page.getByTestId("image-model-note")).toContainText("random weights");
  await page.getByLabel("Describe the picture").fill("a chart of the measurements");
  await page.getByRole("button", { name: "Find images" }).click();
  const hit = page.getByTestId("image-hit").filter({ hasText: env("MIVAA_IMAGES_TITLE") }).first();
  await expect(hit).toBeVisible({ timeout: 30_000 });
  await expect.poll(() => hit.locator("img").evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBeGreaterThan(0);
  await checkAccessible(page, "image search");
  await shot(page, "20-image-search-text");

  // A dropped picture: the figure itself finds its own image first (cosine 1 with itself).
  await page.getByTestId("image-query-input").setInputFiles(env("MIVAA_FIGURE_PNG"));
  await expect(page.getByRole("img", { name: /Your picture: figure\.png/ })).toBeVisible();
  await expect(page.getByTestId("image-hit").first()).toContainText(env("MIVAA_IMAGES_TITLE"), { timeout: 30_000 });
  await expect(page.getByTestId("image-hit").first()).toContainText("similarity 1.000");
  await shot(page, "21-image-search-picture");
  await page.setViewportSize({ width: 390, height: 844 });
  await shot(page, "22-image-search-phone");
  await checkAccessible(page, "image search at phone width");
  await page.setViewportSize({ width: 1280, height: 900 });

  // The hit opens the document view at the image's page with its box outlined.
  await page.getByTestId("image-hit-link").first().click();
  await expect(page).toHaveURL(/#\/documents\/[^?]+\?.*box=/);
  await expect(page.getByTestId("focus-box").first()).toBeVisible({ timeout: 30_000 });
  await shot(page, "23-image-hit-document");
  expect(errors).toEqual([]);
});

test("a watched upload reaches done after the gateway drops every stream and comes back, without a reload", async ({ page }) => {
  await signInWithToken(page, env("MIVAA_DEV_TOKEN"));
  const watches: string[] = [];
  page.on("request", (r) => r.url().endsWith("/WatchJob") && watches.push(r.url()));
  let loads = 0;
  page.on("load", () => (loads += 1));
  await page.getByTestId("file-input").setInputFiles([env("MIVAA_LONG_PDF")]);
  const row = page.getByTestId("upload-row").filter({ hasText: "console-long.pdf" });
  await expect(row).toHaveAttribute("data-status", "watching", { timeout: 60_000 });
  const opened = watches.length;
  expect(opened).toBeGreaterThan(0);
  // The test runner stops the gateway for a few seconds (the open WatchJob stream is cut) and starts it again.
  writeFileSync(env("MIVAA_DROP_GATEWAY_FILE"), "drop");
  await expect.poll(() => existsSync(env("MIVAA_GATEWAY_BACK_FILE")), { timeout: 90_000 }).toBe(true);
  await expect(row).toHaveAttribute("data-status", "done", { timeout: 180_000 });
  await expect(row).toContainText("Done · 300/300 pages");
  expect(watches.length, "WatchJob was opened again after the drop").toBeGreaterThan(opened);
  expect(loads, "no reload").toBe(0);
  await shot(page, "25-upload-after-reconnect");
});

test("the admin screen: system health, queue, usage, jobs by state, watch, cancel and retry", async ({ page }) => {
  test.setTimeout(300_000); // two long documents processed, one retried
  const errors = watchConsole(page);
  await signInWithToken(page, env("MIVAA_ADMIN_TOKEN"));
  // Two long uploads at once: with one worker the second waits, so it can be cancelled.
  await page.getByTestId("file-input").setInputFiles([env("MIVAA_LONG_PDF_A"), env("MIVAA_LONG_PDF_B")]);
  await expect(page.getByTestId("upload-row").filter({ hasText: "console-long-b.pdf" })).toHaveAttribute("data-status", "watching", { timeout: 60_000 });

  await page.getByRole("button", { name: "Admin", exact: true }).click();
  // One GetSystemHealth call: every service, NATS, PostgreSQL (through search) and the models up; the disk
  // may be low on a test machine (degraded) but never down.
  const health = page.getByTestId("health");
  for (const component of ["extractor", "search", "embedder", "ocr", "answer", "nats", "postgresql", "models"]) {
    await expect(health.locator(`[data-service="${component}"]`)).toHaveAttribute("data-health", "up", { timeout: 15_000 });
  }
  await expect(health.locator('[data-service="disk"]')).toHaveAttribute("data-health", /^(up|degraded)$/);
  await expect(health.locator('[data-service="models"]')).toContainText("all-MiniLM-L6-v2");
  // The work queues' depth and lag (documents' tasks and long documents' page ranges), and what the tenant stores.
  const queues = page.getByTestId("queue-row");
  await expect(queues).toHaveCount(2);
  await expect(queues.filter({ hasText: "MIVAA_WORK / extractors" })).toBeVisible();
  await expect(queues.filter({ hasText: "MIVAA_WORK / page-ranges" })).toBeVisible();
  await expect(page.getByTestId("usage")).toContainText("Documents");
  await expect(page.getByTestId("statistics")).toContainText("Jobs of the last 7 days");
  await page.getByLabel("State").selectOption({ label: "Active (queued or running)" });
  const active = page.getByTestId("job-row").filter({ hasText: "console-long-b.pdf" });
  await expect(active).toBeVisible();
  await checkAccessible(page, "admin");
  await shot(page, "26-admin-active");
  await active.getByRole("button", { name: /^Cancel / }).click();
  await expect(active.getByTestId("job-progress")).toContainText("Cancelled");

  // The other one, followed live to its end.
  const watched = page.getByTestId("job-row").filter({ hasText: "console-long-a.pdf" });
  if (await watched.getByRole("button", { name: /^Watch / }).count()) await watched.getByRole("button", { name: /^Watch / }).click();
  await expect(watched).toHaveAttribute("data-finished", "true", { timeout: 180_000 });
  await expect(watched.getByTestId("job-progress")).toContainText("Done");

  await page.getByLabel("State").selectOption({ label: "Cancelled" });
  await expect(page.getByTestId("job-row").filter({ hasText: "console-long-b.pdf" })).toBeVisible();
  await expect(page.getByTestId("job-row").filter({ hasText: "console-long-a.pdf" })).toHaveCount(0);
  await page.getByLabel("State").selectOption({ label: "Succeeded" });
  await expect(page.getByTestId("job-row").filter({ hasText: "console-long-a.pdf" })).toBeVisible();
  await shot(page, "27-admin-succeeded");

  // The cancelled one, retried from its stored file: queued again and followed live.
  await page.getByLabel("State").selectOption({ label: "Cancelled" });
  const cancelled = page.getByTestId("job-row").filter({ hasText: "console-long-b.pdf" });
  await cancelled.getByRole("button", { name: "Retry console-long-b.pdf" }).click();
  await expect(cancelled).toContainText("retried 1×");
  await expect(cancelled.getByTestId("job-progress")).not.toContainText("Cancelled");
  await shot(page, "29-admin-retried");
  // Every failed job at once, after a confirmation that the keyboard can answer.
  await page.getByRole("button", { name: "Retry failed jobs…" }).click();
  const confirm = page.getByRole("dialog", { name: "Retry the failed jobs?" });
  await expect(confirm.getByRole("button", { name: "Retry failed jobs" })).toBeFocused();
  await checkAccessible(page, "admin bulk retry confirmation");
  await shot(page, "30-admin-retry-confirm");
  await page.keyboard.press("Enter");
  await expect(confirm).toHaveCount(0);
  await expect(page.getByTestId("retry-outcome")).toContainText(/No failed job was retried|again/);
  await page.getByRole("button", { name: "Refresh work queue" }).click();
  await expect(page.getByTestId("queue-row").filter({ hasText: "MIVAA_WORK / extractors" })).toBeVisible();
  await page.setViewportSize({ width: 390, height: 844 });
  await checkAccessible(page, "admin at phone width");
  await shot(page, "28-admin-phone");
  expect(errors).toEqual([]);
});
