import { describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { DocumentSchema, DocumentState } from "../gen/mivaa/search/v1/search_service_pb";
import { describeError } from "./errors";
import { timeWords, versionRows, versionWords } from "./documents";
import { refusal } from "./test-errors";

const at = (iso: string) => ({ seconds: BigInt(Date.parse(iso) / 1000), nanos: 0 });
const version = (n: number, state: DocumentState) =>
  create(DocumentSchema, { name: `documents/v${n}`, version: n, state, createTime: at(`2026-03-0${n}T10:00:00Z`) });

describe("versions", () => {
  it("lists a chain newest first with state, time, the open one and the one searches see", () => {
    const chain = [version(3, DocumentState.PROCESSING), version(2, DocumentState.READY), version(1, DocumentState.READY)];
    const rows = versionRows(chain, "documents/v1", true);
    expect(rows.map((r) => [r.version, r.state, r.open, r.searched])).toEqual([
      [3, "processing", false, false],
      [2, "ready", false, true],
      [1, "ready", true, false],
    ]);
    expect(rows[0].created).toMatch(/2026/);
    // On a later page a newer READY version may sit on an earlier one: no guess.
    expect(versionRows(chain, "documents/v1", false).some((r) => r.searched)).toBe(false);
  });

  it("says a document's place in its chain", () => {
    expect(versionWords({ version: 2, versionCount: 3 })).toBe("version 2 of 3");
    expect(versionWords({ version: 1, versionCount: 1 })).toBe("only version");
    expect(versionWords({ version: 0, versionCount: 0 })).toBe("only version");
  });

  it("writes times in the reader's own style, nothing when unset", () => {
    expect(timeWords(undefined)).toBe("");
    expect(timeWords(at("2026-03-01T10:00:00Z"))).toMatch(/2026/);
  });

  it("says why a reprocess or a new version is refused in plain words", () => {
    expect(describeError(refusal("DOCUMENT_PROCESSING", "raw", Code.FailedPrecondition))).toMatch(/still being processed/);
    expect(describeError(refusal("ORIGINAL_MISSING", "raw", Code.FailedPrecondition))).toMatch(/no longer stored/);
  });
});
