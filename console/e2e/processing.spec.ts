// Processing options on upload, reprocess, versions and re-embedding through the real mesh.
import { expect, test, type Locator, type Page } from "@playwright/test";
import { checkAccessible, env, SHOTS, shot, signInWithToken, watchConsole } from "./helpers";

test.describe.configure({ mode: "serial" });

const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 900 };

async function shotOf(locator: Locator, name: string) {
  await locator.scrollIntoViewIfNeeded();
  await locator.screenshot({ path: `${SHOTS}/${name}.png` });
}

/** Desktop and phone screenshots of one part of the page; no part of it may stick out at phone width. */
async function bothWidths(page: Page, locator: Locator, name: string) {
  await shotOf(locator, `${name}-desktop`);
  await page.setViewportSize(PHONE);
  const box = await locator.boundingBox();
  expect(box && box.x + box.width, `${name} fits a phone`).toBeLessThanOrEqual(PHONE.width);
  // What sticks out past the phone's width, named, when anything does.
  const outside = await page.evaluate((width) => {
    const named = (e: Element) => `${e.tagName.toLowerCase()}${e.id ? `#${e.id}` : ""}.${[...e.classList].join(".")}`;
    return [...document.querySelectorAll("body *")]
      .filter((e) => e.getBoundingClientRect().right > width + 1 && !e.parentElement?.closest(".table-scroll"))
      .slice(0, 8)
      .map((e) => `${named(e)} right=${Math.round(e.getBoundingClientRect().right)}`);
  }, PHONE.width);
  expect(outside, `${name}: nothing sticks out at phone width`).toEqual([]);
  expect(await page.evaluate(() => document.documentElement.scrollWidth), `${name}: no sideways scroll`).toBeLessThanOrEqual(PHONE.width);
  await shotOf(locator, `${name}-phone`);
  await page.setViewportSize(DESKTOP);
}

async function openDocument(page: Page, title: string) {
  await page.getByRole("button", { name: "Documents", exact: true }).click();
  await page.getByRole("link", { name: title }).first().click();
  await expect(page.getByRole("heading", { name: title, level: 2 })).toBeVisible();
}

test("upload with options, reprocess with new ones, then a new version", async ({ page }) => {
  const errors = watchConsole(page);
  const title = env("MIVAA_OPTIONS_TITLE");
  await page.setViewportSize(DESKTOP);
  await signInWithToken(page, env("MIVAA_DEV_TOKEN"));
  const options = page.locator("details.options");
  await options.locator("summary").click();
  const chunk = options.getByLabel("Chunk size (tokens, 32-256)");

  // Checked in the form with the server's bounds: nothing is sent.
  await chunk.fill("20");
  await expect(options.getByTestId("chunkTokens-error")).toContainText("from 32 to 256");
  await page.getByTestId("file-input").setInputFiles(env("MIVAA_OPTIONS_PDF"));
  await expect(page.getByText("Nothing uploaded: correct the processing options first.")).toBeVisible();
  await expect(page.getByTestId("upload-row").filter({ hasText: "console-options.pdf" })).toHaveCount(0);

  // The server's own refusal (a code of the right shape that Tesseract does not know), beside its field.
  await chunk.fill("40");
  await options.getByLabel("OCR languages").fill("xyz");
  await page.getByTestId("file-input").setInputFiles(env("MIVAA_OPTIONS_PDF"));
  const refused = options.getByTestId("languages-error");
  await expect(refused).toContainText("PROCESSING_OPTION_INVALID · options.ocr_languages");
  await expect(refused).toContainText("xyz");
  await expect(page.getByTestId("upload-row").first()).toHaveAttribute("data-status", "failed");
  await bothWidths(page, options, "60-upload-options-refused");

  // Accepted: OCR off, tables as paragraphs, 40-token chunks.
  await options.getByLabel("OCR languages").fill("");
  await options.getByLabel("OCR", { exact: true }).selectOption("off");
  await options.getByLabel("Keep tables as tables").uncheck();
  await expect(options.getByTestId("upload-options").locator("[aria-invalid]")).toHaveCount(0);
  await page.getByTestId("file-input").setInputFiles(env("MIVAA_OPTIONS_PDF"));
  await expect(page.getByTestId("upload-row").first()).toHaveAttribute("data-status", "done", { timeout: 180_000 });
  await checkAccessible(page, "upload with options");
  await bothWidths(page, options, "61-upload-options");

  // The document view says what it was processed with.
  await openDocument(page, title);
  const facts = page.getByTestId("processing-options");
  await expect(facts.getByTestId("option-chunk-size")).toHaveText("40 tokens");
  await expect(facts.getByTestId("option-ocr")).toHaveText("off");
  await expect(facts.getByTestId("option-tables")).toHaveText("read as paragraphs");
  await expect(page.getByTestId("version")).toHaveText("only version");
  const chunksBefore = Number(await page.getByTestId("chunk-count").textContent());
  expect(chunksBefore).toBeGreaterThan(3);

  // Reprocess with bigger chunks: live to Done, the document READY (searchable) throughout.
  const reprocess = page.getByTestId("reprocess");
  await expect(reprocess.getByLabel("Chunk size (tokens, 32-256)")).toHaveValue("40"); // starts from the stored options
  await reprocess.getByLabel("Chunk size (tokens, 32-256)").fill("256");
  await reprocess.getByLabel("Keep tables as tables").check();
  await reprocess.getByRole("button", { name: "Reprocess" }).click();
  await expect(reprocess.getByTestId("job-progress")).toBeVisible();
  await expect(page.getByTestId("document-state")).toHaveText("ready");
  await expect(reprocess.getByTestId("job-progress")).toHaveAttribute("data-finished", "true", { timeout: 180_000 });
  await expect(reprocess.getByTestId("job-progress-label")).toContainText("Done");
  await expect(facts.getByTestId("option-chunk-size")).toHaveText("256 tokens");
  await expect(facts.getByTestId("option-tables")).toHaveText("kept as tables");
  await expect.poll(async () => Number(await page.getByTestId("chunk-count").textContent())).toBeLessThan(chunksBefore);
  await checkAccessible(page, "document view after a reprocess");
  await bothWidths(page, reprocess, "62-reprocess-done");

  // A new version from the document view: listed with the first, newest first.
  const upload = page.getByTestId("new-version");
  await upload.getByTestId("new-version-input").setInputFiles(env("MIVAA_OPTIONS_V2_PDF"));
  await expect(upload.getByTestId("job-progress")).toHaveAttribute("data-finished", "true", { timeout: 180_000 });
  await expect(upload.getByTestId("job-progress-label")).toContainText("Done");
  const versions = page.getByTestId("versions");
  await expect(versions.getByTestId("version-row")).toHaveCount(2);
  await expect(versions.getByTestId("version-row").first()).toHaveAttribute("data-version", "2");
  await expect(versions.getByTestId("version-row").first()).toContainText("ready");
  await expect(versions.getByTestId("version-row").first()).toContainText("searched");
  await expect(versions.getByTestId("version-row").last()).toHaveAttribute("data-open", "true");
  await expect(page.getByTestId("version")).toHaveText("version 1 of 2");
  await bothWidths(page, versions, "63-versions");
  await bothWidths(page, upload, "64-new-version");
  await versions.getByRole("link", { name: "Open version 2" }).click();
  await expect(page.getByTestId("version")).toHaveText("version 2 of 2");
  await expect(versions.getByTestId("version-row").first()).toHaveAttribute("data-open", "true");
  await shot(page, "65-document-view-version-2");

  // The list shows the chain once, with its count.
  await page.getByRole("button", { name: "Documents", exact: true }).click();
  const row = page.getByTestId("document-row").filter({ hasText: title });
  await expect(row).toHaveCount(1);
  await expect(row.getByTestId("version-count")).toHaveText("2");
  await expect(row.getByTestId("versions-under-title")).toBeHidden();
  await page.setViewportSize(PHONE);
  await expect(row.getByTestId("versions-under-title")).toHaveText("2 versions"); // the column gives way to it
  await shot(page, "66-documents-versions-phone");
  await page.setViewportSize(DESKTOP);
  expect(errors).toEqual([]);
});

test("an admin's re-embedding is refused in plain words", async ({ page }) => {
  const errors = watchConsole(page);
  await page.setViewportSize(DESKTOP);
  await signInWithToken(page, env("MIVAA_ADMIN_TOKEN"));
  await page.getByRole("button", { name: "Admin", exact: true }).click();
  const panel = page.getByTestId("reembedding");
  await expect(panel.getByRole("option", { name: /^all-MiniLM-L6-v2 · 384 dimensions/ })).toHaveCount(1);
  await expect(panel.getByTestId("active-model")).toBeVisible();
  // The tenant's own model: nothing starts, and the panel says why.
  await panel.getByLabel("Model").selectOption("all-MiniLM-L6-v2");
  await panel.getByRole("button", { name: "Start re-embedding" }).click();
  await expect(panel.getByRole("alert")).toHaveText("Searches use this model already: choose another one.");
  await expect(panel.getByTestId("reembed-status")).toHaveCount(0);
  await checkAccessible(page, "admin re-embedding");
  await bothWidths(page, panel, "67-reembedding-refused");
  expect(errors).toEqual([]);
});

test("tokens without the scope see no reprocess, new version or re-embedding controls", async ({ page }) => {
  const title = env("MIVAA_OPTIONS_TITLE");
  await signInWithToken(page, env("MIVAA_READ_TOKEN"));
  await expect(page.getByTestId("who")).toContainText("scopes read");
  await expect(page.getByRole("button", { name: "Admin", exact: true })).toHaveCount(0);
  await openDocument(page, title);
  await expect(page.getByTestId("versions").getByTestId("version-row")).toHaveCount(2); // reading is allowed
  await expect(page.getByTestId("processing-options")).toBeVisible();
  await expect(page.getByTestId("reprocess")).toHaveCount(0);
  await expect(page.getByTestId("new-version")).toHaveCount(0);
  await shot(page, "68-document-view-read-only");

  // A read-and-write token without admin: no admin tab, and the admin place shows no controls.
  await page.getByRole("button", { name: "Sign out" }).click();
  await signInWithToken(page, env("MIVAA_DEV_TOKEN"));
  await expect(page.getByRole("button", { name: "Admin", exact: true })).toHaveCount(0);
  await page.goto("/#/admin");
  await expect(page.getByText("The admin screen needs a token with the admin scope.")).toBeVisible();
  await expect(page.getByTestId("reembedding")).toHaveCount(0);
});
