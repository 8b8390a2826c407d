import { describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { ModelSchema, Modality } from "../gen/mivaa/embedder/v1/embedder_service_pb";
import { HealthStatus } from "../gen/mivaa/admin/v1/admin_service_pb";
import { JobSchema, JobState, type Job } from "../gen/mivaa/jobs/v1/job_pb";
import { imageModelNote, pickQueryImage, MAX_QUERY_IMAGE_BYTES } from "./images";
import { healthWord, JOB_FILTERS } from "./admin";
import { followJob } from "./watch";
import { parseRoute } from "./route";

describe("image model note", () => {
  const text = create(ModelSchema, { name: "all-MiniLM-L6-v2", modality: Modality.TEXT, inputModalities: [Modality.TEXT] });
  it("says when no image model is served", () => {
    expect(imageModelNote([text])).toMatchObject({ name: "", note: expect.stringMatching(/No image model/) });
  });
  it("warns about random weights, names a pretrained model plainly", () => {
    const tiny = create(ModelSchema, { name: "tiny-clip", modality: Modality.IMAGE, source: "tools/make_tiny_clip.py (random weights, fixed seed)" });
    expect(imageModelNote([text, tiny])).toMatchObject({ name: "tiny-clip", note: expect.stringMatching(/random weights.*means nothing/) });
    const real = create(ModelSchema, { name: "clip-vit-base-patch32", modality: Modality.IMAGE, source: "clip-vit-base-patch32" });
    expect(imageModelNote([real])).toEqual({ name: "clip-vit-base-patch32", source: "clip-vit-base-patch32", note: "" });
  });
});

describe("query picture", () => {
  const file = (name: string, type: string, size: number) => new File([new Uint8Array(size)], name, { type });
  it("takes the first readable picture and refuses the rest in words", () => {
    const png = file("a.png", "image/png", 10);
    expect(pickQueryImage([png, file("b.png", "image/png", 1)])).toBe(png);
    expect(pickQueryImage([])).toMatch(/Drop a picture/);
    expect(pickQueryImage([file("x.pdf", "application/pdf", 10)])).toMatch(/not a picture/);
    expect(pickQueryImage([file("e.png", "image/png", 0)])).toMatch(/empty/);
    expect(pickQueryImage([file("big.jpg", "image/jpeg", MAX_QUERY_IMAGE_BYTES + 1)])).toMatch(/larger than 4 MB/);
  });
});

describe("admin", () => {
  it("says each component's health in words", () => {
    expect(healthWord(HealthStatus.UP)).toBe("up");
    expect(healthWord(HealthStatus.DEGRADED)).toBe("degraded");
    expect(healthWord(HealthStatus.DOWN)).toBe("down");
    expect(healthWord(HealthStatus.NOT_CONFIGURED)).toBe("not configured");
    expect(healthWord(HealthStatus.UNSPECIFIED)).toBe("unknown");
  });
  it("filters jobs by states; all jobs asks for none", () => {
    expect(JOB_FILTERS[0].states).toEqual([]);
    expect(JOB_FILTERS.find((f) => f.label.startsWith("Active"))?.states).toEqual([JobState.QUEUED, JobState.RUNNING]);
  });
  it("routes #/admin and #/images", () => {
    expect(parseRoute("#/admin")).toEqual({ screen: "Admin" });
    expect(parseRoute("#/images")).toEqual({ screen: "Images" });
  });
});

describe("followJob", () => {
  const job = (state: JobState) => create(JobSchema, { name: "jobs/1", state });
  it("opens the stream again after a drop and ends at the terminal state", async () => {
    let opened = 0;
    const extractor = {
      async *watchJob() {
        opened += 1;
        yield { event: { job: job(JobState.RUNNING) } };
        if (opened === 1) throw new ConnectError("network lost", Code.Unknown);
        yield { event: { job: job(JobState.SUCCEEDED) } };
        yield { event: { job: job(JobState.SUCCEEDED) } }; // never read: the job is finished
      },
    };
    const seen: Job[] = [];
    await followJob(extractor, "jobs/1", new AbortController().signal, (j) => seen.push(j), { timeoutMs: 1000, reconnectDelayMs: 1 });
    expect(opened).toBe(2);
    expect(seen.map((j) => j.state)).toEqual([JobState.RUNNING, JobState.RUNNING, JobState.SUCCEEDED]);
  });
  it("passes on an error that is not a drop", async () => {
    const extractor = {
      async *watchJob(): AsyncGenerator<{ event?: { job?: Job } }> {
        throw new ConnectError("gone", Code.NotFound);
      },
    };
    await expect(followJob(extractor, "jobs/1", new AbortController().signal, () => {}, { timeoutMs: 1000 })).rejects.toThrow(/gone/);
  });
});
