import { describe, expect, it } from "vitest";
import { formatMetadata, parseMetadata } from "./metadata";

describe("custom metadata", () => {
  it("shows pairs as sorted key=value lines and reads them back", () => {
    const text = formatMetadata({ team: "a", project: "apollo=11" });
    expect(text).toBe("project=apollo=11\nteam=a");
    expect(parseMetadata(text)).toEqual({ pairs: { project: "apollo=11", team: "a" } });
  });

  it("skips blank lines and refuses a line without a key", () => {
    expect(parseMetadata("\n a = b \n\n")).toEqual({ pairs: { a: "b" } });
    expect(parseMetadata("a=b\nnothing")).toEqual({ error: "Line 2: write key=value." });
    expect(parseMetadata("=x")).toEqual({ error: "Line 1: write key=value." });
  });
});
