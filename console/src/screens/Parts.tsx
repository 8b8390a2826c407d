import { useState, type ReactNode } from "react";

/** A place to drop files (and whatever the caller puts in it: a file chooser, a preview). `onTransfer`,
 * when given, gets the whole drop instead (to walk dropped folders: lib/folders). */
export function Dropzone({
  onFiles,
  onTransfer,
  children,
}: {
  onFiles?: (files: FileList) => void;
  onTransfer?: (transfer: DataTransfer) => void;
  children: ReactNode;
}) {
  const [dragging, setDragging] = useState(false);
  return (
    <div
      className={dragging ? "dropzone dragging" : "dropzone"}
      onDragOver={(e) => {
        e.preventDefault();
        setDragging(true);
      }}
      onDragLeave={() => setDragging(false)}
      onDrop={(e) => {
        e.preventDefault();
        setDragging(false);
        if (onTransfer) onTransfer(e.dataTransfer);
        else onFiles?.(e.dataTransfer.files);
      }}
    >
      {children}
    </div>
  );
}

/** A table's column headings; the last, unnamed one holds each row's buttons. */
export function ColumnHeads({ names }: { names: string[] }) {
  return (
    <thead>
      <tr>
        {names.map((name) => (
          <th key={name} scope="col">
            {name}
          </th>
        ))}
        <th scope="col">
          <span className="visually-hidden">Actions</span>
        </th>
      </tr>
    </thead>
  );
}
