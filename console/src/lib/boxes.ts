// Boxes on a page: PDF points with the origin at the top-left of the page as displayed (what the
// extractor stores and RenderPage's page_width/page_height measure), drawn over the rendered image
// as percentages of it, so the outline follows the image at any width.
export interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

const NUMBER = /^-?\d+(\.\d+)?$/;

export function parseBox(value: string): Box | null {
  const parts = value.split(",");
  if (parts.length !== 4 || !parts.every((p) => NUMBER.test(p.trim()))) return null;
  const [x0, y0, x1, y1] = parts.map(Number);
  return x1 > x0 && y1 > y0 ? { x0, y0, x1, y1 } : null;
}

export function formatBox(box: Box): string {
  return [box.x0, box.y0, box.x1, box.y1].map((v) => Math.round(v * 10) / 10).join(",");
}

export interface PercentBox {
  left: string;
  top: string;
  width: string;
  height: string;
}

/** Where `box` lies on a page of pageWidth x pageHeight points, as CSS percentages, clipped to the page. */
export function boxStyle(box: Box, pageWidth: number, pageHeight: number): PercentBox | null {
  if (!(pageWidth > 0 && pageHeight > 0)) return null;
  const clamp = (v: number, max: number) => Math.min(Math.max(v, 0), max);
  const [x0, x1] = [clamp(box.x0, pageWidth), clamp(box.x1, pageWidth)];
  const [y0, y1] = [clamp(box.y0, pageHeight), clamp(box.y1, pageHeight)];
  if (x1 <= x0 || y1 <= y0) return null;
  const pct = (v: number) => `${(v * 100).toFixed(3)}%`;
  return {
    left: pct(x0 / pageWidth),
    top: pct(y0 / pageHeight),
    width: pct((x1 - x0) / pageWidth),
    height: pct((y1 - y0) / pageHeight),
  };
}

const normalize = (text: string) => text.toLowerCase().replace(/\s+/g, " ").trim();
// Long enough to be specific, short enough to survive a chunk boundary inside a block.
const PROBE_CHARS = 40;

/**
 * Which blocks a search hit's text came from: the block the hit starts in (it may start inside a
 * block and run on past its end) and those whose own start lies in the hit's text (the link
 * carries only the hit's start, so a block's end may lie past it).
 */
export function blocksMatching(blocks: { text: string }[], hitText: string): number[] {
  const hit = normalize(hitText);
  if (hit.length < 8) return [];
  const head = hit.slice(0, 24);
  const found: number[] = [];
  blocks.forEach((block, i) => {
    const text = normalize(block.text);
    if (text.length < 8) return;
    const at = text.indexOf(head);
    const startsHere = at >= 0 && (hit.startsWith(text.slice(at)) || text.slice(at).startsWith(hit.slice(0, PROBE_CHARS)));
    if (startsHere || hit.includes(text.slice(0, PROBE_CHARS))) found.push(i);
  });
  return found;
}
