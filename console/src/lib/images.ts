// Image search's pieces with logic: which image model the embedder serves (and whether its
// rankings mean anything), which dropped file can be a query, and stored images as page-local URLs.
import { Modality, type Model } from "../gen/mivaa/embedder/v1/embedder_service_pb";
import type { Image } from "../gen/mivaa/search/v1/search_service_pb";
import type { Clients } from "./api";

/** What a query picture may weigh: gRPC's default message limit is 4 MiB, with room for the request. */
export const MAX_QUERY_IMAGE_BYTES = 4_000_000;
// What the embedder decodes (services/embedder: Pillow's formats it accepts).
const QUERY_IMAGE_TYPES = ["image/png", "image/jpeg", "image/webp", "image/gif", "image/bmp", "image/tiff"];

export interface ImageModelNote {
  /** The model's name, or "" when no image model is served. */
  name: string;
  /** Where its weights came from (the export's manifest). */
  source: string;
  /** A sentence a person needs before trusting the ranking; "" when there is nothing to say. */
  note: string;
}

/** The embedder's image model (the one SearchImages uses), said honestly. */
export function imageModelNote(models: Model[]): ImageModelNote {
  const model = models.find((m) => m.modality === Modality.IMAGE || m.inputModalities.includes(Modality.IMAGE));
  if (!model) {
    return {
      name: "",
      source: "",
      note: "No image model is served, so image search is off. Export a CLIP model (README: Image search) and restart the embedder.",
    };
  }
  const random = /random/i.test(model.source);
  return {
    name: model.name,
    source: model.source,
    note: random
      ? "This image model has random weights (a test model): it runs the whole search, but its ranking means nothing. Export a pretrained CLIP (README: Image search) for real results."
      : "",
  };
}

/** The first file that can be a query picture, or a sentence saying why none can. */
export function pickQueryImage(files: ArrayLike<File>): File | string {
  const file = Array.from(files)[0];
  if (!file) return "Drop a picture (PNG, JPEG, WebP, GIF, BMP or TIFF).";
  if (!QUERY_IMAGE_TYPES.includes(file.type)) return `${file.name} is not a picture the image model reads (PNG, JPEG, WebP, GIF, BMP or TIFF).`;
  if (file.size === 0) return `${file.name} is empty.`;
  if (file.size > MAX_QUERY_IMAGE_BYTES) return `${file.name} is larger than 4 MB: scale it down first.`;
  return file;
}

/** A byte stream's pieces (ExportDocument, GetImageContent) in one array. */
export async function collect(stream: AsyncIterable<{ data: Uint8Array }>): Promise<Uint8Array<ArrayBuffer>> {
  const pieces: Uint8Array[] = [];
  for await (const piece of stream) pieces.push(piece.data);
  const out = new Uint8Array(pieces.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of pieces) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Each stored image's bytes (GetImageContent) as an object URL; `urls` collects them for revoking. */
export async function loadImageUrls(clients: Clients, images: Image[], signal: AbortSignal, urls: string[]): Promise<string[]> {
  const loaded: string[] = [];
  for (const image of images) {
    const bytes = await collect(clients.search.getImageContent({ name: image.name }, { signal }));
    const url = URL.createObjectURL(new Blob([bytes], { type: image.mimeType }));
    urls.push(url);
    loaded.push(url);
  }
  return loaded;
}
