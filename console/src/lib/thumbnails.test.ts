import { describe, expect, it } from "vitest";
import { ThumbnailSize } from "../gen/mivaa/extractor/v1/extractor_service_pb";
import { isPicture, mediaTypeWord, thumbnailCache, ThumbnailCache, type ThumbnailRenderer } from "./thumbnails";

/** A renderer whose calls wait until the test lets them answer (or fail). */
function heldRenderer() {
  const calls: { name: string; size: ThumbnailSize; answer: () => void; fail: (e: Error) => void }[] = [];
  const renderer: ThumbnailRenderer = {
    renderThumbnail: (request) =>
      new Promise((resolve, reject) =>
        calls.push({
          ...request,
          answer: () => resolve({ png: new TextEncoder().encode(request.name), width: 128, height: 90 }),
          fail: reject,
        }),
      ),
  };
  return { renderer, calls };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

function cache(renderer: ThumbnailRenderer, limit = 10, atOnce = 3) {
  const revoked: string[] = [];
  const made = new ThumbnailCache(renderer, limit, atOnce, (png) => `blob:${new TextDecoder().decode(png)}`, (url) => revoked.push(url));
  return { made, revoked };
}

describe("thumbnail cache", () => {
  it("asks once per name and size, answering later views from the cache", async () => {
    const { renderer, calls } = heldRenderer();
    const { made } = cache(renderer);
    const first = made.get("documents/a");
    const again = made.get("documents/a");
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ name: "documents/a", size: ThumbnailSize.SMALL });
    calls[0].answer();
    expect(await first).toEqual({ url: "blob:documents/a", width: 128, height: 90 });
    expect(await again).toBe(await first);
    expect(await made.get("documents/a")).toBe(await first);
    made.get("documents/a", ThumbnailSize.MEDIUM); // another size is another picture
    await settle();
    expect(calls.map((c) => c.size)).toEqual([ThumbnailSize.SMALL, ThumbnailSize.MEDIUM]);
  });

  it("keeps no failure: the next view asks again", async () => {
    const { renderer, calls } = heldRenderer();
    const { made } = cache(renderer);
    const failing = made.get("documents/gone");
    calls[0].fail(new Error("not found"));
    await expect(failing).rejects.toThrow("not found");
    expect(made.size).toBe(0);
    made.get("documents/gone");
    expect(calls).toHaveLength(2);
  });

  it("runs a few renders at once, the rest when one ends", async () => {
    const { renderer, calls } = heldRenderer();
    const { made } = cache(renderer, 10, 2);
    const all = ["a", "b", "c", "d"].map((id) => made.get(`documents/${id}`));
    await settle();
    expect(calls.map((c) => c.name)).toEqual(["documents/a", "documents/b"]);
    calls[0].answer();
    await all[0];
    await settle();
    expect(calls.map((c) => c.name)).toEqual(["documents/a", "documents/b", "documents/c"]);
    calls[1].fail(new Error("busy")); // a failure frees its place too
    await expect(all[1]).rejects.toThrow();
    await settle();
    expect(calls).toHaveLength(4);
  });

  it("forgets the least recently used beyond its limit and revokes its URL", async () => {
    const { renderer, calls } = heldRenderer();
    const { made, revoked } = cache(renderer, 2, 5);
    made.get("documents/a");
    made.get("documents/b");
    await settle();
    calls.forEach((c) => c.answer());
    await made.get("documents/a"); // a is used again: b is now the oldest
    made.get("documents/c");
    await settle();
    expect(made.size).toBe(2);
    expect(revoked).toEqual(["blob:documents/b"]);
    made.get("documents/a");
    await settle();
    expect(calls).toHaveLength(3); // a was still cached
  });

  it("is one cache per set of clients (a new sign-in starts empty)", () => {
    const { renderer } = heldRenderer();
    const clients = { extractor: renderer };
    expect(thumbnailCache(clients)).toBe(thumbnailCache(clients));
    expect(thumbnailCache({ extractor: renderer })).not.toBe(thumbnailCache(clients));
  });
});

describe("media type", () => {
  it("names PDFs and pictures in one word", () => {
    expect(mediaTypeWord("application/pdf")).toBe("PDF");
    expect(mediaTypeWord("image/png")).toBe("PNG");
    expect(mediaTypeWord("image/jpeg")).toBe("JPEG");
    expect(mediaTypeWord("image/tiff")).toBe("TIFF");
    expect(mediaTypeWord("image/webp")).toBe("WEBP");
    expect(mediaTypeWord("")).toBe("unknown");
    expect(isPicture("image/png")).toBe(true);
    expect(isPicture("application/pdf")).toBe(false);
  });
});
