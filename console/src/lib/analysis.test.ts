import { describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import {
  Analysis,
  AnalysisErrorSchema,
  ImagePropertiesSchema,
  SimilarImageSchema,
} from "../gen/mivaa/images/v1/image_analysis_service_pb";
import { analysisErrorText, formatBytes, percent, propertyRows, similarHref, swatchColor, tagsNote } from "./analysis";

describe("image analysis in words", () => {
  it("lists the properties, one row per placement", () => {
    const properties = create(ImagePropertiesSchema, {
      format: "PNG",
      mimeType: "image/png",
      width: 640,
      height: 480,
      sizeBytes: 12_800n,
      colorSpace: "RGB",
      bitsPerChannel: 8,
      hasAlpha: true,
      fileDpiX: 96,
      fileDpiY: 96,
      placements: [
        { page: 2, widthPoints: 153.6, heightPoints: 115.2, dpiX: 300, dpiY: 300 },
        { page: 3, widthPoints: 100, heightPoints: 50, dpiX: 460.8, dpiY: 691.2 },
      ],
    });
    expect(propertyRows(properties)).toEqual([
      ["Format", "PNG (image/png)"],
      ["Size", "640 × 480 px, 12.5 KiB"],
      ["Colour space", "RGB, 8 bits per channel, with alpha"],
      ["File DPI", "96"],
      ["On page 2", "300 DPI (drawn 154 × 115 pt)"],
      ["On page 3", "461 × 691 DPI (drawn 100 × 50 pt)"],
    ]);
    const plain = create(ImagePropertiesSchema, { format: "TIFF", width: 1, height: 1, sizeBytes: 900n, colorSpace: "grayscale", fileDpiX: 72, fileDpiY: 144 });
    expect(propertyRows(plain)).toEqual([
      ["Format", "TIFF"],
      ["Size", "1 × 1 px, 900 B"],
      ["Colour space", "grayscale"],
      ["File DPI", "72 × 144"],
    ]);
    expect(formatBytes(3 * 1024 * 1024)).toBe("3.0 MiB");
  });

  it("puts only a plain #rrggbb into a style", () => {
    expect(swatchColor("#1D4ED8")).toBe("#1d4ed8");
    expect(swatchColor("red; background: url(x)")).toBeNull();
    expect(swatchColor("#123")).toBeNull();
    expect(percent(0.4234)).toBe("42%");
    expect(percent(0.034)).toBe("3.4%");
  });

  it("says that a random-weight model's tags mean nothing, and names a real one plainly", () => {
    const random = tagsNote("tiny-clip", "tools/make_tiny_clip.py (random weights, fixed seed)");
    expect(random.warn).toBe(true);
    expect(random.text).toMatch(/^Tags from tiny-clip \(weights: tools\/make_tiny_clip\.py/);
    expect(random.text).toMatch(/random weights.*mean nothing.*real CLIP checkpoint/);
    expect(tagsNote("clip-vit-base-patch32", "openai/clip-vit-base-patch32")).toEqual({
      text: "Tags from clip-vit-base-patch32 (weights: openai/clip-vit-base-patch32).",
      warn: false,
    });
    expect(tagsNote("", "")).toEqual({ text: "", warn: false });
  });

  it("says which analysis could not run and why", () => {
    const ocr = create(AnalysisErrorSchema, { analysis: Analysis.TEXT, reason: "OCR_UNAVAILABLE", message: "No OCR service is configured." });
    expect(analysisErrorText(ocr)).toBe("Text: No OCR service is configured, so the image's text cannot be read.");
    const odd = create(AnalysisErrorSchema, { analysis: Analysis.TAGS, reason: "SOMETHING_NEW", message: "The model stalled." });
    expect(analysisErrorText(odd)).toBe("Tags: The model stalled.");
  });

  it("links a similar image to its document at its first page, its analysis open", () => {
    const sha = "0f".repeat(32);
    const similar = create(SimilarImageSchema, { image: `documents/d1/images/${sha}`, document: "documents/d1", pages: [3, 5] });
    expect(similarHref(similar)).toBe(`#/documents/d1?page=3&image=${sha}`);
    expect(similarHref(create(SimilarImageSchema, { document: "documents/d2" }))).toBe("#/documents/d2");
  });
});
