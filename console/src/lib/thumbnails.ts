// Thumbnails (ExtractorService.RenderThumbnail) of a document's first page or of a stored image,
// kept in the browser per name: a list shown again, or a document opened from it, asks nothing
// twice. At most a few renders run at once (the gateway's `renders` class allows a burst of 30 per
// subject, and a page of documents plus their images would spend it); a failure is not kept, so
// the next view asks again.
import { ThumbnailSize } from "../gen/mivaa/extractor/v1/extractor_service_pb";

export interface Thumbnail {
  url: string;
  width: number;
  height: number;
}

/** What a thumbnail cache needs of the extractor client (a fake in unit tests). */
export interface ThumbnailRenderer {
  renderThumbnail(request: { name: string; size: ThumbnailSize }): Promise<{ png: Uint8Array; width: number; height: number }>;
}

export const MAX_CACHED_THUMBNAILS = 300;
export const RENDERS_AT_ONCE = 3;

export class ThumbnailCache {
  private readonly entries = new Map<string, Promise<Thumbnail>>();
  private readonly waiting: (() => void)[] = [];
  private running = 0;

  constructor(
    private readonly renderer: ThumbnailRenderer,
    private readonly limit = MAX_CACHED_THUMBNAILS,
    private readonly atOnce = RENDERS_AT_ONCE,
    private readonly toUrl: (png: Uint8Array) => string = (png) =>
      URL.createObjectURL(new Blob([png as Uint8Array<ArrayBuffer>], { type: "image/png" })),
    private readonly revoke: (url: string) => void = (url) => URL.revokeObjectURL(url),
  ) {}

  /** The thumbnail of `name` ("documents/{id}" or "documents/{id}/images/{sha256}"), from the cache when it is there. */
  get(name: string, size = ThumbnailSize.SMALL): Promise<Thumbnail> {
    const key = `${size} ${name}`;
    const cached = this.entries.get(key);
    if (cached) {
      // Most recently used last: the oldest is the first evicted.
      this.entries.delete(key);
      this.entries.set(key, cached);
      return cached;
    }
    const loading = this.render(name, size);
    this.entries.set(key, loading);
    loading.catch(() => this.entries.get(key) === loading && this.entries.delete(key));
    this.evict();
    return loading;
  }

  get size(): number {
    return this.entries.size;
  }

  private async render(name: string, size: ThumbnailSize): Promise<Thumbnail> {
    if (this.running >= this.atOnce) await new Promise<void>((go) => this.waiting.push(go));
    this.running += 1;
    try {
      const response = await this.renderer.renderThumbnail({ name, size });
      return { url: this.toUrl(response.png), width: response.width, height: response.height };
    } finally {
      this.running -= 1;
      this.waiting.shift()?.();
    }
  }

  private evict() {
    for (const [key, entry] of this.entries) {
      if (this.entries.size <= this.limit) break;
      this.entries.delete(key);
      // An <img> already showing the URL keeps its decoded picture.
      entry.then((thumb) => this.revoke(thumb.url)).catch(() => undefined);
    }
  }
}

// One cache per set of clients: signing out (or in as someone else) makes new clients, so one
// tenant's thumbnails are never shown to another.
const caches = new WeakMap<object, ThumbnailCache>();

export function thumbnailCache(clients: { extractor: ThumbnailRenderer }): ThumbnailCache {
  let cache = caches.get(clients);
  if (!cache) {
    cache = new ThumbnailCache(clients.extractor);
    caches.set(clients, cache);
  }
  return cache;
}

const MEDIA_TYPES: Record<string, string> = {
  "application/pdf": "PDF",
  "image/png": "PNG",
  "image/jpeg": "JPEG",
  "image/tiff": "TIFF",
};

/** A document's media type as a short word: PDF, PNG, JPEG, TIFF ("unknown" before the extractor has told). */
export function mediaTypeWord(mediaType: string): string {
  return MEDIA_TYPES[mediaType] ?? (mediaType ? mediaType.replace(/^[a-z]+\//, "").toUpperCase() : "unknown");
}

/** Whether the document is a picture uploaded as one (its thumbnail is the picture, not a page). */
export function isPicture(mediaType: string): boolean {
  return mediaType.startsWith("image/");
}
