import { describe, expect, it } from "vitest";
import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { JobSchema, JobStage, JobState } from "../gen/mivaa/jobs/v1/job_pb";
import { progressFraction, progressLabel, isFinished } from "./progress";
import { describeError, decodeErrorInfo, RATE_LIMITED_MESSAGE } from "./errors";
import { splitAnswer, splitHighlights } from "./citations";
import { parseToken, isExpired } from "./auth";
import { errorInfoBytes, refusal } from "./test-errors";

function errorWith(reason: string, code = Code.InvalidArgument, metadata: Record<string, string> = {}) {
  return refusal(reason, "raw server text", code, metadata);
}

describe("progress", () => {
  it("counts pages while extracting and fills up at the end", () => {
    const job = create(JobSchema, { state: JobState.RUNNING, stage: JobStage.EXTRACTING, pagesDone: 2, pagesTotal: 4 });
    expect(progressFraction(job)).toBeCloseTo(0.4);
    expect(progressLabel(job)).toBe("Extracting text · 2/4 pages");
    const done = create(JobSchema, { state: JobState.SUCCEEDED, stage: JobStage.DONE, pagesDone: 4, pagesTotal: 4, chunksIndexed: 9 });
    expect(isFinished(done)).toBe(true);
    expect(progressFraction(done)).toBe(1);
    expect(progressLabel(done)).toBe("Done · 4/4 pages · 9 chunks");
  });
  it("shows OCR pages", () => {
    const job = create(JobSchema, { state: JobState.RUNNING, stage: JobStage.OCR, pagesDone: 1, pagesTotal: 2, ocrPagesDone: 1, ocrPagesTotal: 2 });
    expect(progressLabel(job)).toBe("Recognising scanned pages · 1/2 pages · 1/2 OCR pages");
  });
  it("roundtrips a job through the wire format", () => {
    const job = create(JobSchema, { name: "jobs/1", stage: JobStage.INDEXING });
    expect(toBinary(JobSchema, job).length).toBeGreaterThan(0);
  });
});

describe("error messages", () => {
  it("uses the ErrorInfo reason", () => {
    expect(describeError(errorWith("NOT_A_PDF"))).toBe("This is not a PDF file.");
    expect(describeError(errorWith("PDF_ENCRYPTED", Code.FailedPrecondition))).toMatch(/enter its password/);
    expect(describeError(errorWith("PDF_ENCRYPTED", Code.FailedPrecondition, { password_supplied: "true" }))).toMatch(/password is wrong/);
  });
  it("decodes ErrorInfo metadata", () => {
    expect(decodeErrorInfo(errorInfoBytes("X", { field: "title" }))).toEqual({ reason: "X", domain: "mivaa", metadata: { field: "title" } });
  });
  it("says when the rate limit was hit or the token is no good", () => {
    expect(describeError(new ConnectError("local_rate_limited", Code.ResourceExhausted))).toBe(RATE_LIMITED_MESSAGE);
    expect(describeError(new ConnectError("Jwt is expired", Code.Unauthenticated))).toMatch(/Sign in again/);
  });
  it("falls back to the server's text with its reason", () => {
    expect(describeError(errorWith("SOMETHING_NEW"))).toBe("raw server text (SOMETHING_NEW)");
  });
});

describe("citations", () => {
  it("splits an answer into cited runs", () => {
    const parts = splitAnswer("Bread keeps. It stales fast.", [
      { answerStart: 0, answerEnd: 12, source: 2 },
      { answerStart: 0, answerEnd: 12, source: 1 },
    ]);
    expect(parts).toEqual([
      { text: "Bread keeps.", sources: [1, 2] },
      { text: " It stales fast.", sources: [] },
    ]);
  });
  it("ignores citations outside the answer and counts code points", () => {
    expect(splitAnswer("😀 ok", [{ answerStart: 2, answerEnd: 4, source: 1 }, { answerStart: 3, answerEnd: 99, source: 2 }])).toEqual([
      { text: "😀 ", sources: [] },
      { text: "ok", sources: [1] },
    ]);
  });
  it("marks highlights", () => {
    expect(splitHighlights("a bread b", [{ start: 2, end: 7 }])).toEqual([
      { text: "a ", mark: false },
      { text: "bread", mark: true },
      { text: " b", mark: false },
    ]);
  });
});

describe("tokens", () => {
  const b64 = (o: object) => btoa(JSON.stringify(o)).replace(/=+$/, "");
  it("reads tenant, scopes and expiry", () => {
    const session = parseToken(`h.${b64({ sub: "u", tenant: "acme", scope: "read write", exp: 100 })}.s`);
    expect(session).toMatchObject({ tenant: "acme", scopes: ["read", "write"], expiresAt: 100_000 });
    expect(isExpired(session, 100_001)).toBe(true);
  });
  it("refuses what is no JWT", () => {
    expect(() => parseToken("nope")).toThrow(/not a JWT/);
    expect(() => parseToken(`h.${b64({ tenant: "a" })}.s`)).toThrow(/no expiry/);
  });
});
