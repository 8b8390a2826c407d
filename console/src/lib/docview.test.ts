import { describe, expect, it } from "vitest";
import { blocksMatching, boxStyle, parseBox, formatBox } from "./boxes";
import { headingLevels, parseMarkdown, plainInline, tableCells } from "./markdown";
import { documentHref, parseRoute, screenHref } from "./route";

describe("boxes", () => {
  it("scales a box in points onto the page as percentages, clipped to the page", () => {
    expect(boxStyle({ x0: 59.5, y0: 84.2, x1: 297.5, y1: 168.4 }, 595, 842)).toEqual({
      left: "10.000%",
      top: "10.000%",
      width: "40.000%",
      height: "10.000%",
    });
    expect(boxStyle({ x0: -10, y0: 800, x1: 700, y1: 900 }, 595, 842)).toEqual({
      left: "0.000%",
      top: "95.012%",
      width: "100.000%",
      height: "4.988%",
    });
    expect(boxStyle({ x0: 600, y0: 0, x1: 700, y1: 10 }, 595, 842)).toBeNull(); // off the page
    expect(boxStyle({ x0: 0, y0: 0, x1: 1, y1: 1 }, 0, 842)).toBeNull();
  });

  it("reads and writes the box of a link, refusing nonsense", () => {
    expect(parseBox("1,2.5,30,40")).toEqual({ x0: 1, y0: 2.5, x1: 30, y1: 40 });
    expect(parseBox("30,2,1,40")).toBeNull();
    expect(parseBox("1,2,3")).toBeNull();
    expect(parseBox("a,b,c,d")).toBeNull();
    expect(formatBox({ x0: 1.04, y0: 2.56, x1: 30, y1: 40.01 })).toBe("1,2.6,30,40");
  });

  it("finds the blocks a hit's text came from", () => {
    const blocks = [
      { text: "Chapter one" },
      { text: "The archive of day two tells of a  long journey across the northern sea and back home." },
      { text: "Another paragraph that follows the journey, with more words than the first one has." },
      { text: "Unrelated footnote text that nobody searched for at all." },
    ];
    const hit = "the northern sea and back home. Another paragraph that follows the journey, with more";
    expect(blocksMatching(blocks, hit)).toEqual([1, 2]);
    expect(blocksMatching(blocks, "short")).toEqual([]);
  });
});

describe("routes", () => {
  it("reads a document view with its page, box and text", () => {
    expect(parseRoute("#/documents/abc-123?page=3&box=1,2,3,4&text=hello%20there")).toEqual({
      screen: "Document",
      name: "documents/abc-123",
      page: 3,
      box: { x0: 1, y0: 2, x1: 3, y1: 4 },
      text: "hello there",
      image: "",
    });
    expect(parseRoute("#/documents/abc?page=-2")).toMatchObject({ page: 1, box: null, text: "" });
  });

  it("reads the screens and falls back to Upload", () => {
    expect(parseRoute("#/search")).toEqual({ screen: "Search" });
    expect(parseRoute("")).toEqual({ screen: "Upload" });
    expect(parseRoute("#source-2")).toEqual({ screen: "Upload" });
    expect(screenHref("Documents")).toBe("#/documents");
    expect(parseRoute(screenHref("Documents"))).toEqual({ screen: "Documents" });
  });

  it("writes links that read back the same, the text shortened", () => {
    const href = documentHref("documents/x y", 2, { box: { x0: 1, y0: 2, x1: 3, y1: 4 }, text: "a".repeat(900) });
    const route = parseRoute(href);
    expect(route).toMatchObject({ screen: "Document", name: "documents/x y", page: 2, box: { x0: 1, y0: 2, x1: 3, y1: 4 } });
    expect(route.screen === "Document" && route.text.length).toBe(600);
    expect(documentHref("documents/abc")).toBe("#/documents/abc");
  });

  it("opens one of the document's images' analysis, named by its sha256 only", () => {
    const sha = "ab".repeat(32);
    const href = documentHref("documents/d2", 3, { image: sha });
    expect(href).toBe(`#/documents/d2?page=3&image=${sha}`);
    expect(parseRoute(href)).toMatchObject({ name: "documents/d2", page: 3, image: sha });
    expect(parseRoute("#/documents/d2?image=../../x")).toMatchObject({ image: "" });
    expect(parseRoute(`#/documents/d2?image=${sha.toUpperCase()}`)).toMatchObject({ image: "" });
  });
});

describe("markdown", () => {
  it("reads headings, paragraphs, lists, tables and code", () => {
    const blocks = parseMarkdown(
      "# Title\n\nSome *text*\ncontinued.\n\n- one\n- two\n\n1. first\n\n| A | B \\| C |\n|---|:---:|\n| 1 | 2 |\n| 3 | 4 |\n\n```\ncode here\n```\n",
    );
    expect(blocks).toEqual([
      { kind: "heading", level: 1, text: "Title" },
      { kind: "paragraph", text: "Some *text* continued." },
      { kind: "list", ordered: false, items: ["one", "two"] },
      { kind: "list", ordered: true, items: ["first"] },
      { kind: "table", header: ["A", "B | C"], rows: [["1", "2"], ["3", "4"]] },
      { kind: "code", text: "code here" },
    ]);
  });

  it("keeps heading levels in order under the view's own", () => {
    const blocks = parseMarkdown("## Intro\n\n#### Deep\n\n## Next\n\n### Sub");
    expect(headingLevels(blocks, 4)).toEqual({ 0: 4, 1: 5, 2: 4, 3: 5 });
  });

  it("shows inline syntax as words, never markup", () => {
    expect(plainInline("**bold** and _it_ with `code`, [a link](https://x) and ![a chart](documents/1/images/2)")).toBe(
      "bold and it with code, a link and [image: a chart]",
    );
    expect(tableCells("| a | b |")).toEqual(["a", "b"]);
  });
});
