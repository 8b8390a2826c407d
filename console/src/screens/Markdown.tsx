import { headingLevels, parseMarkdown, plainInline } from "../lib/markdown";

/** A document's Markdown as elements (never as HTML): headings, lists, tables as tables, code. */
export function Markdown({ text }: { text: string }) {
  const blocks = parseMarkdown(text);
  // The view's own headings are h2/h3: the document's start at h4 and never skip a level.
  const levels = headingLevels(blocks, 4);
  return (
    <div className="markdown" data-testid="markdown">
      {blocks.map((block, i) => {
        switch (block.kind) {
          case "heading": {
            const Tag = `h${levels[i]}` as "h4";
            return <Tag key={i}>{plainInline(block.text)}</Tag>;
          }
          case "list": {
            const Tag = block.ordered ? "ol" : "ul";
            return (
              <Tag key={i}>
                {block.items.map((item, j) => (
                  <li key={j}>{plainInline(item)}</li>
                ))}
              </Tag>
            );
          }
          case "table":
            return (
              <div className="table-scroll" key={i}>
                <table className="md-table" data-testid="md-table">
                  <thead>
                    <tr>
                      {block.header.map((cell, j) => (
                        <th key={j} scope="col">
                          {plainInline(cell)}
                        </th>
                      ))}
                    </tr>
                  </thead>
                  <tbody>
                    {block.rows.map((row, r) => (
                      <tr key={r}>
                        {row.map((cell, j) => (
                          <td key={j}>{plainInline(cell)}</td>
                        ))}
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            );
          case "code":
            return <pre key={i}>{block.text}</pre>;
          default:
            return <p key={i}>{plainInline(block.text)}</p>;
        }
      })}
    </div>
  );
}
