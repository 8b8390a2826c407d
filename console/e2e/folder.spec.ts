// Named to run after console.spec.ts: its expired-token test needs a token minted seconds before.
// A folder of PDFs is one batch: its aggregate progress, live from WatchBatch, reaches done above the
// rows of its files, and the file that could not be read is named with the reason in plain words.
import { expect, test } from "@playwright/test";
import { checkAccessible, env, shot, signInWithToken, watchConsole } from "./helpers";

test("a chosen folder is uploaded as one batch and watched to done", async ({ page }) => {
  const errors = watchConsole(page);
  await signInWithToken(page, env("MIVAA_DEV_TOKEN"));
  await page.getByTestId("folder-input").setInputFiles(env("MIVAA_PDF_FOLDER"));
  const batch = page.getByTestId("batch").filter({ hasText: "Batch: console-folder" });
  await expect(batch).toBeVisible({ timeout: 30_000 });
  await expect(batch).toHaveAttribute("data-state", "done", { timeout: 150_000 });
  await expect(batch.getByRole("progressbar", { name: "Progress of batch console-folder" })).toHaveAttribute("value", "1");
  await expect(batch.getByTestId("batch-figures")).toContainText("3 of 3 documents finished · 1 failed");
  await expect(batch.getByTestId("batch-figures")).toContainText(/3\/3 pages/);
  await expect(batch.getByRole("list", { name: "Failed files of batch console-folder" })).toContainText(
    "broken.pdf: The PDF is damaged and cannot be read.",
  );
  // Only PDFs were taken from the folder (notes.txt was not), each with its own row.
  for (const file of ["folder-a.pdf", "folder-b.pdf"]) {
    await expect(page.getByTestId("upload-row").filter({ hasText: file })).toHaveAttribute("data-status", "done");
  }
  await expect(page.getByTestId("upload-row").filter({ hasText: "notes.txt" })).toHaveCount(0);
  await checkAccessible(page, "upload batch");
  await shot(page, "16-upload-folder-batch");
  expect(errors).toEqual([]);
});
