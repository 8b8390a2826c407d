// Generates src/gen from ../protos with buf + protoc-gen-es (console/buf.gen.yaml).
// --check: generates into a temporary folder and fails when src/gen differs (drift).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, cpSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const consoleDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const root = resolve(consoleDir, "..");
const committed = join(consoleDir, "src", "gen");
const buf = process.env.BUF ?? (existsSync(join(root, ".venv/bin/buf")) ? join(root, ".venv/bin/buf") : "buf");

function files(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

const out = mkdtempSync(join(tmpdir(), "mivaa-console-gen-"));
try {
  // buf resolves the template's paths from the repository root; the output goes to the temp folder.
  execFileSync(buf, ["generate", "--template", "console/buf.gen.yaml", "-o", out], { cwd: root, stdio: "inherit" });
  const fresh = join(out, "console", "src", "gen");
  if (process.argv.includes("--check")) {
    const a = new Set(files(fresh).map((p) => relative(fresh, p)));
    const b = new Set(files(committed).map((p) => relative(committed, p)));
    const drift = [...new Set([...a, ...b])].filter(
      (p) => !a.has(p) || !b.has(p) || !readFileSync(join(fresh, p)).equals(readFileSync(join(committed, p))),
    );
    if (drift.length) {
      console.error("console/src/gen drifts from protos/ (run `npm run gen` in console/):\n  " + drift.sort().join("\n  "));
      process.exit(1);
    }
    console.log(`console/src/gen matches protos/ (${a.size} files)`);
  } else {
    rmSync(committed, { recursive: true, force: true });
    cpSync(fresh, committed, { recursive: true });
    console.log(`wrote ${files(committed).length} files to console/src/gen`);
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}
