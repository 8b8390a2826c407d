import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { act, cleanup, render, screen } from "@testing-library/react";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { Analysis, ImageAnalysisSchema } from "../gen/mivaa/images/v1/image_analysis_service_pb";
import type { ScreenProps } from "../App";
import type { ThumbnailRenderer } from "../lib/thumbnails";
import { Thumbnail } from "./Thumbnail";
import { AnalysisResult, ImageAnalysisPanel } from "./ImageAnalysis";

beforeAll(() => {
  // jsdom has no object URLs.
  URL.createObjectURL = () => `blob:thumb-${Math.random()}`;
  URL.revokeObjectURL = () => undefined;
});
afterEach(cleanup);

function renderer(answer: (name: string) => Promise<{ png: Uint8Array; width: number; height: number }>): { extractor: ThumbnailRenderer } {
  return { extractor: { renderThumbnail: ({ name }) => answer(name) } };
}

describe("Thumbnail", () => {
  it("shows a placeholder while drawing, then the picture", async () => {
    let answer: () => void = () => {};
    const clients = renderer(() => new Promise((resolve) => (answer = () => resolve({ png: new Uint8Array([1]), width: 128, height: 96 }))));
    render(<Thumbnail clients={clients} onAuthError={() => {}} name="documents/a" label="First page of A" />);
    expect(screen.getByRole("img", { name: "First page of A: preview loading" })).toBeTruthy();
    await act(async () => answer());
    const img = screen.getByRole("img", { name: "First page of A" }) as HTMLImageElement;
    expect(img.src).toMatch(/^blob:thumb-/);
    expect(screen.getByTestId("thumbnail").dataset.status).toBe("ready");
  });

  it("shows a placeholder with the reason when it cannot be drawn", async () => {
    const clients = renderer(() => Promise.reject(new ConnectError("no such document", Code.NotFound)));
    render(<Thumbnail clients={clients} onAuthError={() => {}} name="documents/gone" label="First page of Gone" />);
    const placeholder = await screen.findByRole("img", { name: /First page of Gone: no preview \(no such document\)/ });
    expect(placeholder.textContent).toBe("No preview");
    expect(screen.getByTestId("thumbnail").dataset.status).toBe("failed");
  });

  it("signs out when the token is refused", async () => {
    let signedOut = 0;
    const clients = renderer(() => Promise.reject(new ConnectError("expired", Code.Unauthenticated)));
    render(<Thumbnail clients={clients} onAuthError={() => (signedOut += 1)} name="documents/x" label="X" />);
    await screen.findByText("No preview");
    expect(signedOut).toBe(1);
  });
});

const analysis = create(ImageAnalysisSchema, {
  image: "documents/d1/images/aa",
  properties: { format: "PNG", mimeType: "image/png", width: 300, height: 200, sizeBytes: 2048n, colorSpace: "RGB", bitsPerChannel: 8, fileDpiX: 96, fileDpiY: 96 },
  colors: [
    { hex: "#1d4ed8", red: 29, green: 78, blue: 216, fraction: 0.6 },
    { hex: "#ffffff", red: 255, green: 255, blue: 255, fraction: 0.4 },
  ],
  text: { text: "North Cape 12.5", confidence: 0.91, engine: "tesseract" },
  tags: [
    { label: "chart", score: 0.7, similarity: 0.31 },
    { label: "cat", score: 0.3, similarity: 0.12 },
  ],
  similar: [{ image: `documents/d2/images/${"bb".repeat(32)}`, document: "documents/d2", documentTitle: "Harbour Charts", score: 0.98, pages: [2] }],
  imageModel: "tiny-clip",
  imageModelSource: "tools/make_tiny_clip.py (random weights, fixed seed)",
  errors: [],
});

const thumbClients = renderer(async () => ({ png: new Uint8Array([1]), width: 64, height: 64 }));

describe("AnalysisResult", () => {
  it("shows properties, swatches, OCR text, tags with the random-weights note, and similar images", async () => {
    const clients = { ...thumbClients } as unknown as ScreenProps["clients"];
    render(<AnalysisResult clients={clients} onAuthError={() => {}} analysis={analysis} />);
    expect(screen.getByTestId("analysis-properties").textContent).toContain("300 × 200 px, 2.0 KiB");
    const swatches = screen.getAllByTestId("swatch");
    expect(swatches.map((s) => s.textContent)).toEqual(["#1d4ed860%", "#ffffff40%"]);
    expect((swatches[0].querySelector(".swatch") as HTMLElement).style.background).toBe("rgb(29, 78, 216)");
    expect(screen.getByTestId("ocr-text").textContent).toBe("North Cape 12.5");
    expect(screen.getAllByTestId("tag").map((t) => t.textContent)).toEqual(["chart 70%0.310", "cat 30%0.120"]);
    expect(screen.getByTestId("tags-note").textContent).toMatch(/random weights.*mean nothing/);
    const link = screen.getByRole("link", { name: /Harbour Charts/ });
    expect(link.getAttribute("href")).toBe(`#/documents/d2?page=2&image=${"bb".repeat(32)}`);
    expect(await screen.findByRole("img", { name: "Similar image in Harbour Charts" })).toBeTruthy();
  });

  it("names the analyses that could not run and still shows the others", () => {
    const partial = create(ImageAnalysisSchema, {
      properties: analysis.properties,
      errors: [
        { analysis: Analysis.TEXT, reason: "OCR_UNAVAILABLE", message: "No OCR service is configured." },
        { analysis: Analysis.SIMILAR, reason: "IMAGE_MODEL_UNAVAILABLE", message: "no model" },
      ],
    });
    const clients = thumbClients as unknown as ScreenProps["clients"];
    render(<AnalysisResult clients={clients} onAuthError={() => {}} analysis={partial} />);
    const errors = screen.getAllByTestId("analysis-error").map((e) => e.textContent);
    expect(errors[0]).toBe("Text: No OCR service is configured, so the image's text cannot be read. OCR_UNAVAILABLE");
    expect(errors[1]).toMatch(/^Similar images: .*IMAGE_MODEL_UNAVAILABLE$/);
    expect(screen.getByTestId("analysis-properties")).toBeTruthy();
    expect(screen.queryByTestId("no-similar")).toBeNull(); // said above, not as "no similar images"
  });
});

describe("ImageAnalysisPanel", () => {
  it("asks AnalyzeImage for the stored image and shows the answer", async () => {
    const asked: unknown[] = [];
    const clients = {
      ...thumbClients,
      images: {
        analyzeImage: async (request: unknown) => {
          asked.push(request);
          return { analysis };
        },
      },
    } as unknown as ScreenProps["clients"];
    render(<ImageAnalysisPanel clients={clients} onAuthError={() => {}} image="documents/d1/images/aa" label="Image 1 on page 2" />);
    expect(await screen.findByTestId("swatches")).toBeTruthy();
    expect(asked).toEqual([{ source: { case: "image", value: "documents/d1/images/aa" } }]);
    expect(screen.getByRole("heading", { name: "Analysis: Image 1 on page 2" })).toBeTruthy();
  });

  it("shows the google.rpc.Status reason in words when the call fails", async () => {
    const refused = (reason: string) => {
      const error = new ConnectError("raw server text", Code.InvalidArgument);
      const bytes = new TextEncoder().encode(reason);
      error.details.push({ type: "google.rpc.ErrorInfo", value: new Uint8Array([0x0a, bytes.length, ...bytes]) });
      return error;
    };
    const clients = {
      ...thumbClients,
      images: { analyzeImage: async () => Promise.reject(refused("IMAGE_TOO_LARGE")) },
    } as unknown as ScreenProps["clients"];
    render(<ImageAnalysisPanel clients={clients} onAuthError={() => {}} image="documents/d1/images/aa" label="Image 1" />);
    expect((await screen.findByRole("alert")).textContent).toBe("The picture has too many pixels: scale it down first.");
    cleanup();
    const other = { ...clients, images: { analyzeImage: async () => Promise.reject(refused("SOMETHING_NEW")) } } as unknown as ScreenProps["clients"];
    render(<ImageAnalysisPanel clients={other} onAuthError={() => {}} image="documents/d1/images/aa" label="Image 1" />);
    expect((await screen.findByRole("alert")).textContent).toBe("raw server text (SOMETHING_NEW)");
  });
});
