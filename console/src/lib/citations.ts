// An answer's text split into plain runs and cited runs (Citation offsets are in code
// points of the answer, end exclusive), so each cited run can point at its source.
import type { Citation } from "../gen/mivaa/answer/v1/answer_service_pb";

export interface AnswerPart {
  text: string;
  sources: number[]; // 1-based source numbers; empty for uncited text
}

export function splitAnswer(answer: string, citations: Pick<Citation, "answerStart" | "answerEnd" | "source">[]): AnswerPart[] {
  const points = Array.from(answer);
  const cuts = new Set<number>([0, points.length]);
  const valid = citations.filter((c) => c.answerStart >= 0 && c.answerEnd > c.answerStart && c.answerEnd <= points.length);
  for (const c of valid) {
    cuts.add(c.answerStart);
    cuts.add(c.answerEnd);
  }
  const sorted = [...cuts].sort((a, b) => a - b);
  const parts: AnswerPart[] = [];
  for (let i = 0; i + 1 < sorted.length; i++) {
    const [start, end] = [sorted[i], sorted[i + 1]];
    const sources = [...new Set(valid.filter((c) => c.answerStart <= start && c.answerEnd >= end).map((c) => c.source))].sort(
      (a, b) => a - b,
    );
    const text = points.slice(start, end).join("");
    const last = parts[parts.length - 1];
    if (last && last.sources.join() === sources.join()) last.text += text;
    else parts.push({ text, sources });
  }
  return parts;
}

/** A hit's text with its highlights (code point offsets) marked. */
export function splitHighlights(text: string, highlights: { start: number; end: number }[]): { text: string; mark: boolean }[] {
  const points = Array.from(text);
  const out: { text: string; mark: boolean }[] = [];
  let at = 0;
  for (const h of [...highlights].sort((a, b) => a.start - b.start)) {
    if (h.start < at || h.end <= h.start || h.end > points.length) continue;
    if (h.start > at) out.push({ text: points.slice(at, h.start).join(""), mark: false });
    out.push({ text: points.slice(h.start, h.end).join(""), mark: true });
    at = h.end;
  }
  if (at < points.length) out.push({ text: points.slice(at).join(""), mark: false });
  return out;
}
