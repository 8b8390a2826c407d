/** A document's custom metadata as the edit form shows it: one `key=value` per line. */

/** The map as lines, keys sorted. */
export function formatMetadata(pairs: Record<string, string>): string {
  return Object.keys(pairs)
    .sort()
    .map((key) => `${key}=${pairs[key]}`)
    .join("\n");
}

/** The lines as a map; blank lines are skipped, a line without `=` or a key is an error (the
 * service checks keys and values against its limits and names what it refuses). */
export function parseMetadata(text: string): { pairs: Record<string, string> } | { error: string } {
  const pairs: Record<string, string> = {};
  for (const [index, raw] of text.split("\n").entries()) {
    const line = raw.trim();
    if (!line) continue;
    const at = line.indexOf("=");
    if (at <= 0) return { error: `Line ${index + 1}: write key=value.` };
    pairs[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return { pairs };
}
