import type { Document } from "../gen/mivaa/search/v1/search_service_pb";

/** Asks before a document is deleted; Escape or the backdrop keeps it. */
export function ConfirmDelete({
  document,
  onDelete,
  onKeep,
}: {
  document: Document;
  onDelete: (doomed: Document) => void;
  onKeep: () => void;
}) {
  return (
    <>
      <div className="backdrop" onClick={onKeep} />
      <div
        role="dialog"
        aria-modal="true"
        aria-labelledby="confirm-heading"
        className="dialog"
        onKeyDown={(e) => e.key === "Escape" && onKeep()}
      >
        <h3 id="confirm-heading">Delete “{document.title || document.filename}”?</h3>
        <p>Its chunks, pages, images, vectors and stored file are removed. This cannot be undone.</p>
        <div className="row">
          <button type="button" className="danger" autoFocus onClick={() => onDelete(document)}>
            Delete
          </button>
          <button type="button" onClick={onKeep}>
            Keep it
          </button>
        </div>
      </div>
    </>
  );
}
