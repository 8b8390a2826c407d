// Thumbnails and media types in the documents list and view, and a stored image analysed
// (ImageAnalysisService.AnalyzeImage) through the real mesh: swatches, OCR text, tags, look-alikes.
// Named to run after console.spec.ts (specs run in name order): that spec's short-lived token is
// minted when the run starts and would expire while this one runs.
import { expect, test, type Locator, type Page } from "@playwright/test";
import { checkAccessible, env, shot, signInWithToken, watchConsole } from "./helpers";

test.describe.configure({ mode: "serial" });

/** A thumbnail that arrived and was decoded (not the placeholder, not a broken image). */
async function expectThumbnail(thumbnail: Locator) {
  await expect(thumbnail).toHaveAttribute("data-status", "ready", { timeout: 30_000 });
  await expect.poll(() => thumbnail.locator("img").evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBeGreaterThan(0);
}

async function openDocuments(page: Page) {
  await page.getByRole("button", { name: "Documents", exact: true }).click();
  await expect(page.getByTestId("document-row").first()).toBeVisible({ timeout: 30_000 });
}

test("thumbnails and media types, then an image analysed with swatches, tags and a look-alike", async ({ page }) => {
  test.setTimeout(300_000);
  const errors = watchConsole(page);
  const title = env("MIVAA_ANALYSIS_TITLE");
  await page.setViewportSize({ width: 1280, height: 900 });
  await signInWithToken(page, env("MIVAA_DEV_TOKEN"));
  await page.getByTestId("file-input").setInputFiles([env("MIVAA_ANALYSIS_PDF"), env("MIVAA_ANALYSIS_PNG")]);
  for (const file of ["tide-atlas.pdf", "tide-chart.png"]) {
    await expect(page.getByTestId("upload-row").filter({ hasText: file })).toHaveAttribute("data-status", "done", { timeout: 180_000 });
  }

  // The list: each document's type and a thumbnail of its first page or picture.
  await openDocuments(page);
  const pdfRow = page.getByTestId("document-row").filter({ hasText: title });
  const pngRow = page.getByTestId("document-row").filter({ hasText: "tide-chart.png" });
  await expect(pdfRow.getByTestId("media-type")).toHaveText("PDF");
  await expect(pngRow.getByTestId("media-type")).toHaveText("PNG");
  await expectThumbnail(pdfRow.getByTestId("thumbnail"));
  await expectThumbnail(pngRow.getByTestId("thumbnail"));
  await checkAccessible(page, "documents with thumbnails");
  await shot(page, "40-documents-thumbnails");

  // Thumbnails are kept per document: showing the list again draws none anew.
  const renders: string[] = [];
  page.on("request", (r) => r.url().endsWith("/RenderThumbnail") && renders.push(r.url()));
  await page.getByRole("button", { name: "Search", exact: true }).first().click();
  await openDocuments(page);
  await expectThumbnail(pdfRow.getByTestId("thumbnail"));
  expect(renders, "thumbnails came from the browser's cache").toEqual([]);

  // The PDF's view: its type and first page, its image analysed.
  await pdfRow.getByRole("link", { name: title }).click();
  await expect(page.getByRole("heading", { name: title, level: 2 })).toBeVisible();
  await expect(page.getByTestId("metadata").getByTestId("media-type")).toHaveText("PDF");
  await expectThumbnail(page.getByRole("region", { name: "About" }).getByTestId("thumbnail"));
  await expect(page.getByTestId("gallery-image")).toHaveCount(1, { timeout: 30_000 });
  await page.getByRole("button", { name: /^Analyze / }).click();
  const analysis = page.getByTestId("image-analysis");
  await expect(analysis.getByTestId("swatches")).toBeVisible({ timeout: 90_000 });
  await expect(analysis.getByTestId("analysis-properties")).toContainText("480 × 280 px");
  await expect(analysis.getByTestId("analysis-properties")).toContainText(/On page 1\s*\d+ DPI/);
  expect(await analysis.getByTestId("swatch").count()).toBeGreaterThanOrEqual(3); // red, blue, white (and the letters)
  await expect(analysis.getByTestId("ocr-text")).toContainText(/HARBOUR/i);
  await expect(analysis.getByTestId("tag").first()).toBeVisible();
  // The test mesh's CLIP has random weights: the response names the source, and the page says so.
  await expect(analysis.getByTestId("tags-note")).toContainText("random weights");
  await expect(analysis.getByTestId("tags-note")).toContainText("tiny-clip");
  const lookAlike = analysis.getByTestId("similar-image").filter({ hasText: "tide-chart.png" });
  await expect(lookAlike).toBeVisible();
  await expectThumbnail(lookAlike.getByTestId("thumbnail"));
  await expect(analysis.getByTestId("analysis-error")).toHaveCount(0);
  await checkAccessible(page, "image analysis");
  await shot(page, "41-image-analysis");
  await analysis.screenshot({ path: "test-artifacts/screenshots/42-image-analysis-panel.png" });

  // The look-alike opens its own document, the PNG (a picture), with its own analysis open (GetImage).
  await lookAlike.getByRole("link").click();
  await expect(page).toHaveURL(/#\/documents\/[^?]+\?.*image=[0-9a-f]{64}/);
  await expect(page.getByRole("heading", { name: "tide-chart.png", level: 2 })).toBeVisible();
  await expect(page.getByTestId("metadata").getByTestId("media-type")).toHaveText("PNG picture");
  await expectThumbnail(page.getByRole("region", { name: "About" }).getByTestId("thumbnail"));
  await expect(page.getByTestId("image-analysis").getByTestId("swatches")).toBeVisible({ timeout: 90_000 });
  await expect(page.getByRole("button", { name: /^Analyze / })).toHaveAttribute("aria-pressed", "true");
  await expect(page.getByTestId("image-analysis").getByTestId("similar-image").filter({ hasText: title })).toBeVisible();
  await shot(page, "43-picture-document");

  // Phone width: one column, the analysis still readable.
  await page.setViewportSize({ width: 390, height: 844 });
  await checkAccessible(page, "image analysis at phone width");
  await shot(page, "44-image-analysis-phone");
  await openDocuments(page);
  await expectThumbnail(pdfRow.getByTestId("thumbnail"));
  await expect(pdfRow.locator(".type-under-preview")).toHaveText("PDF"); // the type column gives way to this line
  await shot(page, "45-documents-phone");
  expect(await page.evaluate(() => document.documentElement.scrollWidth), "the list fits the phone's width").toBeLessThanOrEqual(390);
  expect(errors).toEqual([]);
});
