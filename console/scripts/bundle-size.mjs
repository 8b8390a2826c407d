// Prints the initial bundle's gzip size (index.html's scripts and styles) and fails over the budget.
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { join } from "node:path";

const BUDGET_BYTES = 500 * 1024;
const dist = new URL("../dist/", import.meta.url).pathname;
const html = readFileSync(join(dist, "index.html"), "utf8");
const assets = [...html.matchAll(/(?:src|href)="\/(assets\/[^"]+)"/g)].map((m) => m[1]);
let total = 0;
for (const asset of assets) {
  const size = gzipSync(readFileSync(join(dist, asset)), { level: 9 }).length;
  total += size;
  console.log(`  ${asset}: ${(size / 1024).toFixed(1)} kB gzip`);
}
console.log(`initial bundle: ${(total / 1024).toFixed(1)} kB gzip (budget ${BUDGET_BYTES / 1024} kB)`);
if (total > BUDGET_BYTES) process.exit(1);
