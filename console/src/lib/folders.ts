// Files from a drop or a folder chooser, folders walked to the bottom, documents only (PDFs and
// the pictures the mesh takes as documents: PNG, JPEG, TIFF; the server checks their bytes).
// A dropped folder is a FileSystemDirectoryEntry (DataTransferItem.webkitGetAsEntry): its reader
// returns entries a batch at a time until an empty one. The entries must be taken from the drop
// event at once (the item list is emptied when the handler returns); reading them may wait.

export const DOCUMENT_SUFFIXES = [".pdf", ".png", ".jpg", ".jpeg", ".tif", ".tiff"];

export function isDocument(file: { name: string }): boolean {
  const name = file.name.toLowerCase();
  return DOCUMENT_SUFFIXES.some((suffix) => name.endsWith(suffix));
}

export interface PickedFiles {
  files: File[];
  /** The name of the single folder they came from; "" for loose files. */
  folder: string;
}

function readEntries(reader: FileSystemDirectoryReader): Promise<FileSystemEntry[]> {
  return new Promise((resolve, reject) => reader.readEntries(resolve, reject));
}

function fileOf(entry: FileSystemFileEntry): Promise<File> {
  return new Promise((resolve, reject) => entry.file(resolve, reject));
}

async function walk(entry: FileSystemEntry, out: File[]): Promise<void> {
  if (entry.isFile) {
    if (isDocument(entry)) out.push(await fileOf(entry as FileSystemFileEntry));
    return;
  }
  if (!entry.isDirectory) return;
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  for (;;) {
    const batch = await readEntries(reader);
    if (batch.length === 0) return;
    for (const child of batch) await walk(child, out);
  }
}

/** The PDFs of a drop: loose files and every PDF in dropped folders, at any depth. */
export async function filesFromDrop(transfer: DataTransfer): Promise<PickedFiles> {
  const entries = Array.from(transfer.items ?? [])
    .map((item) => (item.kind === "file" && item.webkitGetAsEntry ? item.webkitGetAsEntry() : null))
    .filter((entry): entry is FileSystemEntry => entry !== null);
  if (entries.length === 0) return { files: Array.from(transfer.files).filter(isDocument), folder: "" };
  const files: File[] = [];
  for (const entry of entries) await walk(entry, files);
  const folders = entries.filter((entry) => entry.isDirectory);
  return { files, folder: entries.length === 1 && folders.length === 1 ? folders[0].name : "" };
}

/** The PDFs of a file chooser; with `webkitdirectory`, each file's webkitRelativePath names its folder. */
export function filesFromInput(list: FileList): PickedFiles {
  const files = Array.from(list);
  const roots = new Set(files.map((file) => file.webkitRelativePath.split("/")[0]).filter(Boolean));
  return { files: files.filter(isDocument), folder: roots.size === 1 ? [...roots][0] : "" };
}
