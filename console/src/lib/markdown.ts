// The Markdown the extractor writes (ExportDocument), read back into blocks React renders
// as elements: headings, paragraphs, lists, pipe tables (as tables), code and images' names.
// Never HTML: the text is shown, not interpreted, so nothing in a document can run in the page.
export type MarkdownBlock =
  | { kind: "heading"; level: number; text: string }
  | { kind: "paragraph"; text: string }
  | { kind: "list"; ordered: boolean; items: string[] }
  | { kind: "table"; header: string[]; rows: string[][] }
  | { kind: "code"; text: string };

const TABLE_RULE = /^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?$/;
const LIST_ITEM = /^\s*([-*+]|\d+[.)])\s+(.*)$/;

export function tableCells(line: string): string[] {
  const trimmed = line.trim().replace(/^\|/, "").replace(/\|$/, "");
  // "\|" is a pipe inside a cell.
  return trimmed.split(/(?<!\\)\|/).map((cell) => cell.trim().replace(/\\\|/g, "|"));
}

export function parseMarkdown(markdown: string): MarkdownBlock[] {
  const lines = markdown.replace(/\r\n?/g, "\n").split("\n");
  const blocks: MarkdownBlock[] = [];
  let paragraph: string[] = [];
  const flush = () => {
    if (paragraph.length) blocks.push({ kind: "paragraph", text: paragraph.join(" ") });
    paragraph = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === "") {
      flush();
      continue;
    }
    if (line.startsWith("```")) {
      flush();
      const code: string[] = [];
      for (i++; i < lines.length && !lines[i].startsWith("```"); i++) code.push(lines[i]);
      blocks.push({ kind: "code", text: code.join("\n") });
      continue;
    }
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    if (heading) {
      flush();
      blocks.push({ kind: "heading", level: heading[1].length, text: heading[2].trim() });
      continue;
    }
    if (line.trim().startsWith("|") && i + 1 < lines.length && TABLE_RULE.test(lines[i + 1].trim())) {
      flush();
      const header = tableCells(line);
      const rows: string[][] = [];
      for (i += 2; i < lines.length && lines[i].trim().startsWith("|"); i++) rows.push(tableCells(lines[i]));
      i--;
      blocks.push({ kind: "table", header, rows });
      continue;
    }
    const item = LIST_ITEM.exec(line);
    if (item) {
      flush();
      const ordered = /\d/.test(item[1]);
      const last = blocks[blocks.length - 1];
      if (last?.kind === "list" && last.ordered === ordered) last.items.push(item[2]);
      else blocks.push({ kind: "list", ordered, items: [item[2]] });
      continue;
    }
    paragraph.push(line.trim());
  }
  flush();
  return blocks;
}

/** Emphasis markers and image/link syntax reduced to their words, for plain display. */
export function plainInline(text: string): string {
  return text
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, (_, alt: string) => (alt ? `[image: ${alt}]` : "[image]"))
    .replace(/\[([^\]]+)\]\([^)]*\)/g, "$1")
    .replace(/(\*\*|__)(.+?)\1/g, "$2")
    .replace(/(^|[^*\w])[*_]([^*_]+)[*_](?=[^*\w]|$)/g, "$1$2")
    .replace(/`([^`]+)`/g, "$1");
}

/**
 * The HTML heading level of each heading block (by index), starting at `top` for the document's
 * shallowest heading and never more than one below the previous heading (at most 6).
 */
export function headingLevels(blocks: MarkdownBlock[], top: number): Record<number, number> {
  const headings = blocks.flatMap((b, i) => (b.kind === "heading" ? [[i, b.level] as const] : []));
  const shallowest = Math.min(...headings.map(([, level]) => level));
  const levels: Record<number, number> = {};
  let previous = top - 1;
  for (const [i, level] of headings) {
    const wanted = top + level - shallowest;
    previous = Math.min(wanted, previous + 1, 6);
    levels[i] = previous;
  }
  return levels;
}
