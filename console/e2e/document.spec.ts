import { expect, test, type Page } from "@playwright/test";
import { checkAccessible, env, search, shot, signInWithToken, watchConsole } from "./helpers";

test.describe.configure({ mode: "serial" });

/** Page `number`'s image has arrived and been decoded (not a broken image). */
async function expectPageImage(page: Page, number?: number) {
  if (number) await expect(page.getByTestId("page-canvas")).toHaveAttribute("data-page", String(number), { timeout: 30_000 });
  const image = page.getByTestId("page-image");
  await expect(image).toBeVisible({ timeout: 30_000 });
  await expect.poll(() => image.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth), { timeout: 30_000 }).toBeGreaterThan(500);
}

test("upload a structured and a scanned PDF, open the document view, edit, follow a hit", async ({ page }) => {
  const errors = watchConsole(page);
  const title = env("MIVAA_VIEW_TITLE");
  await signInWithToken(page, env("MIVAA_DEV_TOKEN"));
  await page.getByTestId("file-input").setInputFiles([env("MIVAA_VIEW_PDF"), env("MIVAA_SCANNED_PDF")]);
  for (const file of ["console-view.pdf", "console-scanned.pdf"]) {
    const row = page.getByTestId("upload-row").filter({ hasText: file });
    await expect(row).toHaveAttribute("data-status", "done", { timeout: 180_000 });
  }
  // The scan was read by OCR: its page's words are searchable.
  await expect(page.getByTestId("upload-row").filter({ hasText: "console-scanned.pdf" })).toContainText(/OCR/);
  await shot(page, "10-upload-scanned-done");

  // Documents → the document view.
  await page.getByRole("button", { name: "Documents", exact: true }).click();
  await page.getByRole("link", { name: title }).click();
  await expect(page).toHaveURL(/#\/documents\/[^?]+$/);
  await expect(page.getByRole("heading", { name: title, level: 2 })).toBeVisible();
  await expectPageImage(page, 1);
  await expect(page.getByTestId("block-box").first()).toBeAttached();
  expect(await page.getByTestId("block-box").count()).toBeGreaterThan(3);
  await expect(page.getByTestId("metadata")).toContainText("Ada Keeper");
  await expect(page.getByTestId("outline")).toContainText("2 Measurements");
  await expect(page.getByTestId("markdown")).toContainText("Beacon lamps were replaced.");
  const table = page.getByTestId("md-table").first();
  await expect(table.getByRole("columnheader", { name: "Station" })).toBeVisible();
  await expect(table.getByRole("cell", { name: "North Cape" })).toBeVisible();
  await expect(page.getByTestId("gallery-image")).toHaveCount(1);
  await expect(page.getByTestId("summary")).not.toBeEmpty({ timeout: 60_000 });
  await expect(page.getByRole("heading", { name: "Entities" })).toBeVisible();
  await checkAccessible(page, "document view");
  await shot(page, "11-document-view");

  // Page navigation: page 2 holds the table, outlined as one.
  await page.getByRole("button", { name: "Next page" }).click();
  await expect(page).toHaveURL(/page=2/);
  await expectPageImage(page, 2);
  await expect(page.locator(".block-table")).toHaveCount(1);
  await shot(page, "12-document-page-2");

  // Edit the labels and the custom metadata.
  await page.getByLabel("Labels (comma-separated)").fill("viewed, e2e-edit");
  await page.getByLabel("Metadata (key=value, one per line)").fill("project=e2e\nstage=draft");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("status")).toHaveText("Saved.");
  await expect(page.getByTestId("labels")).toHaveText("viewed, e2e-edit");
  await expect(page.getByTestId("custom-metadata")).toHaveText("project=e2e, stage=draft");

  // A search hit opens its page with its blocks outlined.
  await search(page, env("MIVAA_VIEW_PHRASE"));
  const hit = page.getByTestId("hit").filter({ hasText: title }).first();
  await hit.getByTestId("hit-link").click();
  await expect(page).toHaveURL(/#\/documents\/.+page=\d.*text=/);
  await expectPageImage(page);
  await expect(page.getByTestId("focus-box").first()).toBeVisible();
  await checkAccessible(page, "document view at a hit");
  await shot(page, "13-document-hit");

  // Phone width: one column, the page still whole.
  await page.setViewportSize({ width: 390, height: 844 });
  await expectPageImage(page);
  const box = await page.getByTestId("page-canvas").boundingBox();
  expect(box && box.width).toBeLessThanOrEqual(390);
  await shot(page, "14-document-phone");
  expect(errors).toEqual([]);
});

test("a citation opens the cited page at its box, and the view deletes after asking", async ({ page }) => {
  await signInWithToken(page, env("MIVAA_DEV_TOKEN"));
  await page.getByRole("button", { name: "Ask", exact: true }).first().click();
  await page.getByLabel("Question").fill(env("MIVAA_VIEW_QUESTION"));
  await page.getByRole("button", { name: "Ask", exact: true }).last().click();
  await page.getByTestId("citation").first().click();
  await expect(page).toHaveURL(/#\/documents\/.+/);
  await expectPageImage(page);
  await expect(page.getByTestId("focus-box").first()).toBeVisible();
  await shot(page, "15-document-citation");

  // Delete from the view: asked first, then back to the list without it.
  await page.goto(`/#/documents`);
  await page.getByRole("link", { name: env("MIVAA_VIEW_TITLE") }).click();
  await page.getByRole("button", { name: "Delete document" }).click();
  await expect(page.getByRole("dialog")).toBeVisible();
  await page.getByRole("dialog").getByRole("button", { name: "Delete" }).click();
  await expect(page).toHaveURL(/#\/documents$/);
  await expect(page.getByRole("link", { name: env("MIVAA_VIEW_TITLE") })).toHaveCount(0);
});
