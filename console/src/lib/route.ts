// The console's places, kept in the URL fragment (#/documents/<id>?page=2&box=...): Envoy serves
// each built file at its exact path only, so the page itself is always "/", and a fragment never
// reaches a server or its logs. A link to a document view can be shared, bookmarked or reloaded.
import { formatBox, parseBox, type Box } from "./boxes";

export const SCREENS = ["Upload", "Search", "Images", "Ask", "Documents", "Admin"] as const;
export type Screen = (typeof SCREENS)[number];

export type Route =
  | { screen: Screen }
  | {
      screen: "Document";
      /** "documents/{id}": the resource name. */
      name: string;
      page: number;
      /** A box to outline (a citation's), in PDF points. */
      box: Box | null;
      /** The start of a search hit's text: the blocks it came from are outlined. */
      text: string;
      /** One of its images (sha256) whose analysis is open; "" for none. */
      image: string;
    };

// A hit's text travels in the fragment, shortened: about a chunk (128 tokens), enough to find its blocks.
export const MAX_ROUTE_TEXT = 600;
const SHA256 = /^[0-9a-f]{64}$/;

export function parseRoute(hash: string): Route {
  const [path, query = ""] = hash.replace(/^#\/?/, "").split("?", 2);
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  if (parts[0] === "documents" && parts[1]) {
    const params = new URLSearchParams(query);
    const page = Number.parseInt(params.get("page") ?? "1", 10);
    return {
      screen: "Document",
      name: `documents/${parts[1]}`,
      page: Number.isFinite(page) && page >= 1 ? page : 1,
      box: parseBox(params.get("box") ?? ""),
      text: (params.get("text") ?? "").slice(0, MAX_ROUTE_TEXT),
      image: SHA256.test(params.get("image") ?? "") ? params.get("image")! : "",
    };
  }
  const screen = SCREENS.find((s) => s.toLowerCase() === (parts[0] ?? "").toLowerCase());
  return { screen: screen ?? "Upload" };
}

export function screenHref(screen: Screen): string {
  return `#/${screen.toLowerCase()}`;
}

/** The document view of `name` ("documents/{id}") at a page, with a box or a hit's text to outline,
 * or with one of its images' analysis open (`image`: its sha256). */
export function documentHref(name: string, page = 1, options: { box?: Box | null; text?: string; image?: string } = {}): string {
  const id = name.replace(/^documents\//, "");
  const params = new URLSearchParams();
  if (page > 1) params.set("page", String(page));
  if (options.box) params.set("box", formatBox(options.box));
  if (options.text) params.set("text", Array.from(options.text).slice(0, MAX_ROUTE_TEXT).join(""));
  if (options.image) params.set("image", options.image);
  const query = params.toString();
  return `#/documents/${encodeURIComponent(id)}${query ? `?${query}` : ""}`;
}
