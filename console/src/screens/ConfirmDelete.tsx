import type { ReactNode } from "react";
import type { Document } from "../gen/mivaa/search/v1/search_service_pb";

/** A modal question with a yes and a no; Escape or the backdrop answers no. The yes button has the focus. */
export function Confirm({
  id,
  title,
  yes,
  no,
  danger = false,
  onYes,
  onNo,
  children,
}: {
  id: string;
  title: string;
  yes: string;
  no: string;
  danger?: boolean;
  onYes: () => void;
  onNo: () => void;
  children: ReactNode;
}) {
  return (
    <>
      <div className="backdrop" onClick={onNo} />
      <div role="dialog" aria-modal="true" aria-labelledby={id} className="dialog" onKeyDown={(e) => e.key === "Escape" && onNo()}>
        <h3 id={id}>{title}</h3>
        {children}
        <div className="row">
          <button type="button" className={danger ? "danger" : undefined} autoFocus onClick={onYes}>
            {yes}
          </button>
          <button type="button" onClick={onNo}>
            {no}
          </button>
        </div>
      </div>
    </>
  );
}

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
    <Confirm
      id="confirm-heading"
      title={`Delete “${document.title || document.filename}”?`}
      yes="Delete"
      no="Keep it"
      danger
      onYes={() => onDelete(document)}
      onNo={onKeep}
    >
      <p>Its chunks, pages, images, vectors and stored file are removed. This cannot be undone.</p>
    </Confirm>
  );
}
