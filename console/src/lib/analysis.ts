// ImageAnalysisService.AnalyzeImage's answer in words: properties as rows, colours as safe CSS,
// tags with an honest note on the image model's weights, and the analyses that could not run.
import { Analysis, type AnalysisError, type ImageProperties, type SimilarImage } from "../gen/mivaa/images/v1/image_analysis_service_pb";
import { describeReason } from "./errors";
import { documentHref } from "./route";

const ANALYSIS_NAMES: Record<Analysis, string> = {
  [Analysis.UNSPECIFIED]: "Analysis",
  [Analysis.PROPERTIES]: "Properties",
  [Analysis.COLORS]: "Colours",
  [Analysis.TEXT]: "Text",
  [Analysis.TAGS]: "Tags",
  [Analysis.SIMILAR]: "Similar images",
};

/** A size in bytes as people read it. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

const round = (value: number) => String(Math.round(value));

/** The image's properties as [term, description] rows; one row per placement on a page. */
export function propertyRows(p: ImageProperties): [string, string][] {
  const rows: [string, string][] = [
    ["Format", p.mimeType ? `${p.format} (${p.mimeType})` : p.format],
    ["Size", `${p.width} × ${p.height} px, ${formatBytes(Number(p.sizeBytes))}`],
    [
      "Colour space",
      `${p.colorSpace}${p.bitsPerChannel ? `, ${p.bitsPerChannel} bits per channel` : ""}${p.hasAlpha ? ", with alpha" : ""}`,
    ],
    ["File DPI", p.fileDpiX === p.fileDpiY ? round(p.fileDpiX) : `${round(p.fileDpiX)} × ${round(p.fileDpiY)}`],
  ];
  for (const placed of p.placements) {
    const dpi = Math.abs(placed.dpiX - placed.dpiY) < 0.5 ? round(placed.dpiX) : `${round(placed.dpiX)} × ${round(placed.dpiY)}`;
    rows.push([`On page ${placed.page}`, `${dpi} DPI (drawn ${round(placed.widthPoints)} × ${round(placed.heightPoints)} pt)`]);
  }
  return rows;
}

/** A colour the server named, as CSS only when it is plainly "#rrggbb" (it goes into a style). */
export function swatchColor(hex: string): string | null {
  return /^#[0-9a-f]{6}$/i.test(hex) ? hex.toLowerCase() : null;
}

/** A share in [0, 1] as a percentage. */
export function percent(fraction: number): string {
  return `${(fraction * 100).toFixed(fraction >= 0.1 ? 0 : 1)}%`;
}

/** Whether weights from this source make tags mean anything (the test mesh's CLIP is random). */
export function hasRandomWeights(source: string): boolean {
  return /random/i.test(source);
}

/** The sentence shown above the tags: which model made them, and whether to believe them. */
export function tagsNote(model: string, source: string): { text: string; warn: boolean } {
  if (!model) return { text: "", warn: false };
  const named = `Tags from ${model} (weights: ${source || "not stated"}).`;
  if (hasRandomWeights(source)) {
    return {
      text: `${named} This image model has random weights (a test model): the tags and their scores mean nothing. Configure a real CLIP checkpoint (README: Image search) for real tags.`,
      warn: true,
    };
  }
  return { text: named, warn: false };
}

/** An analysis that could not run, in words, with its reason. */
export function analysisErrorText(error: AnalysisError): string {
  return `${ANALYSIS_NAMES[error.analysis] ?? "Analysis"}: ${describeReason(error.reason, error.message)}`;
}

/** Where a similar image leads: its document at its first page, with its own analysis open. */
export function similarHref(similar: SimilarImage): string {
  const sha256 = similar.image.split("/images/")[1] ?? "";
  return documentHref(similar.document, similar.pages[0] ?? 1, { image: sha256 });
}
