import { describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import { DurationSchema } from "@bufbuild/protobuf/wkt";
import { BatchRetryJobsResponseSchema, QueueStatusSchema, RetryFailureSchema } from "../gen/mivaa/admin/v1/admin_service_pb";
import { JobSchema, JobState } from "../gen/mivaa/jobs/v1/job_pb";
import { batchRetryWords, byteWords, durationWords, isRetryable, queueWords } from "./admin";

const seconds = (s: number, nanos = 0) => create(DurationSchema, { seconds: BigInt(s), nanos });

describe("admin words", () => {
  it("says durations as people read them", () => {
    expect(durationWords(undefined)).toBe("0.00 s");
    expect(durationWords(seconds(0, 350_000_000))).toBe("0.35 s");
    expect(durationWords(seconds(4, 500_000_000))).toBe("4.5 s");
    expect(durationWords(seconds(42))).toBe("42 s");
    expect(durationWords(seconds(185))).toBe("3 min 5 s");
    expect(durationWords(seconds(7800))).toBe("2 h 10 min");
  });
  it("says sizes in binary units", () => {
    expect(byteWords(0n)).toBe("0 bytes");
    expect(byteWords(1536n)).toBe("1.5 KiB");
    expect(byteWords(5n * 1024n * 1024n)).toBe("5.0 MiB");
    expect(byteWords(3 * 1024 ** 4)).toBe("3072.0 GiB");
  });
  it("offers a retry for failed and cancelled jobs only", () => {
    const job = (state: JobState) => create(JobSchema, { state });
    expect([JobState.FAILED, JobState.CANCELLED].map((s) => isRetryable(job(s)))).toEqual([true, true]);
    expect([JobState.QUEUED, JobState.RUNNING, JobState.SUCCEEDED].some((s) => isRetryable(job(s)))).toBe(false);
  });
  it("sums up a bulk retry and lists what it could not retry", () => {
    const none = batchRetryWords(create(BatchRetryJobsResponseSchema, {}));
    expect(none).toEqual({ summary: "No failed job was retried.", problems: [] });
    const some = batchRetryWords(
      create(BatchRetryJobsResponseSchema, {
        retriedCount: 2,
        more: true,
        failures: [create(RetryFailureSchema, { job: "jobs/1", reason: "PDF_ENCRYPTED", message: "The PDF needs its password." })],
      }),
    );
    expect(some.summary).toBe("Queued 2 failed jobs again. 1 could not be retried. More failed jobs remain: retry again for the next ones.");
    expect(some.problems).toEqual(["jobs/1: The PDF needs its password."]);
  });
  it("says a queue's depth and lag", () => {
    expect(queueWords(create(QueueStatusSchema, {}))).toBe("Empty: nothing waits.");
    const busy = create(QueueStatusSchema, { pending: 3n, inFlight: 1n, oldestPendingAge: seconds(75) });
    expect(queueWords(busy)).toBe("3 waiting (oldest for 1 min 15 s), 1 in progress.");
  });
});
