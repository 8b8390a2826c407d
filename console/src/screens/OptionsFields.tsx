// The processing options' fields (upload, batch, reprocess): each field's mistake shown beside it as
// it is typed, and a server refusal (PROCESSING_OPTION_INVALID) beside the field it names.
import {
  checkOptions,
  MAX_CHUNK_TOKENS,
  MIN_CHUNK_TOKENS,
  type OcrChoice,
  type OptionField,
  type OptionRefusal,
  type OptionsForm,
} from "../lib/options";

const OCR_CHOICES: { value: OcrChoice; label: string }[] = [
  { value: "auto", label: "Automatic: pages without a text layer" },
  { value: "force", label: "Every page (ignore the text layer)" },
  { value: "off", label: "Off: no OCR" },
];

/** The refusal's words with the reason and the field the server named, as it said them. */
export function RefusalNote({ refusal }: { refusal: OptionRefusal }) {
  return (
    <p role="alert" className="error" data-testid="option-refusal">
      {refusal.message} <span className="reason">PROCESSING_OPTION_INVALID{refusal.path ? ` · ${refusal.path}` : ""}</span>
    </p>
  );
}

export function OptionsFields({
  id,
  form,
  onChange,
  refusal,
}: {
  /** Prefix of the fields' ids: two forms can be on one page. */
  id: string;
  form: OptionsForm;
  onChange: (form: OptionsForm) => void;
  refusal?: OptionRefusal;
}) {
  const checked = checkOptions(form);
  const errors = "errors" in checked ? checked.errors : {};
  const set = (change: Partial<OptionsForm>) => onChange({ ...form, ...change });
  // A field's own mistake, or the server's refusal of it; aria wiring for either.
  const problem = (field: OptionField) => errors[field] ?? (refusal?.field === field ? refusal.message : undefined);
  const described = (field: OptionField) =>
    problem(field) ? { "aria-invalid": true, "aria-describedby": `${id}-${field}-error` } : {};
  const note = (field: OptionField) => {
    const refused = !errors[field] && refusal?.field === field;
    return (
      problem(field) && (
        <span id={`${id}-${field}-error`} className="field-error" data-testid={`${field}-error`} role={refused ? "alert" : undefined}>
          {problem(field)}
          {refused && <span className="reason"> PROCESSING_OPTION_INVALID · {refusal?.path}</span>}
        </span>
      )
    );
  };
  return (
    <div className="options-fields" data-testid={`${id}-options`}>
      <label htmlFor={`${id}-ocr`}>OCR</label>
      <select id={`${id}-ocr`} value={form.ocrMode} onChange={(e) => set({ ocrMode: e.target.value as OcrChoice })}>
        {OCR_CHOICES.map((choice) => (
          <option key={choice.value} value={choice.value}>
            {choice.label}
          </option>
        ))}
      </select>
      <label htmlFor={`${id}-languages`}>OCR languages</label>
      <input
        id={`${id}-languages`}
        value={form.languages}
        placeholder="eng, deu (empty: each page's script)"
        disabled={form.ocrMode === "off" && !form.languages}
        onChange={(e) => set({ languages: e.target.value })}
        {...described("languages")}
      />
      {note("languages")}
      <label htmlFor={`${id}-chunk`}>Chunk size (tokens, {MIN_CHUNK_TOKENS}-{MAX_CHUNK_TOKENS})</label>
      <input
        id={`${id}-chunk`}
        type="number"
        inputMode="numeric"
        min={MIN_CHUNK_TOKENS}
        max={MAX_CHUNK_TOKENS}
        placeholder="server default"
        value={form.chunkTokens}
        onChange={(e) => set({ chunkTokens: e.target.value })}
        {...described("chunkTokens")}
      />
      {note("chunkTokens")}
      <label className="check">
        <input type="checkbox" checked={form.images} onChange={(e) => set({ images: e.target.checked })} /> Extract images
      </label>
      {note("images")}
      <label className="check">
        <input type="checkbox" checked={form.tables} onChange={(e) => set({ tables: e.target.checked })} /> Keep tables as
        tables
      </label>
      {note("tables")}
      {refusal && !refusal.field && <RefusalNote refusal={refusal} />}
    </div>
  );
}
