// Drives Debian's chromium (never a downloaded browser) against a running mesh:
// tests/console/test_console.py starts the mesh and sets MIVAA_CONSOLE_URL and the tokens.
import { defineConfig } from "@playwright/test";

export default defineConfig({
  testDir: "e2e",
  timeout: 180_000,
  workers: 1,
  reporter: [["list"]],
  outputDir: "test-artifacts/results",
  use: {
    baseURL: process.env.MIVAA_CONSOLE_URL,
    ignoreHTTPSErrors: true, // the local mesh's own CA
    launchOptions: { executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", args: ["--no-sandbox"] },
    trace: "off",
  },
});
