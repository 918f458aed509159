// A host path typed in a text field, with a "Browse…" button when the desktop app offers native
// pickers (a browser cannot name a path on the host, so serve mode shows the text field alone).
import { useId, type ReactNode } from 'react';
import { useStores } from '../store/stores';

export interface PathFieldProps {
  label: string;
  value: string;
  onChange: (path: string) => void;
  /** Folder picker, or a file picker for these extensions (no dots). */
  pick: { folder: true } | { extensions: string[] };
  placeholder?: string;
  error?: string | null;
  /** What the host found at the path (a dataset's counts), shown while there is no error. */
  hint?: string | null;
  /** What the field means beyond its label (a flag's caveats), always shown, muted. */
  note?: string | null;
  id?: string;
  /** Shown under the notes: an action the field's problem offers (the run form's Fetch CIFAR-100). */
  children?: ReactNode;
}

export function PathField({ label, value, onChange, pick, placeholder, error, hint, note, id, children }: PathFieldProps) {
  const dialogs = useStores().client.dialogs;
  const generated = useId();
  const inputId = id ?? generated;
  const statusId = `${inputId}-status`;
  const noteId = `${inputId}-note`;
  const describedBy = [error || hint ? statusId : null, note ? noteId : null].filter(Boolean).join(' ');
  const browse = async () => {
    if (!dialogs) return;
    const chosen = 'folder' in pick ? await dialogs.pickFolder() : await dialogs.pickFile(pick.extensions);
    if (chosen !== null) onChange(chosen);
  };
  return (
    <div className="field field-wide">
      <label htmlFor={inputId}>{label}</label>
      <div className="path-row">
        <input
          id={inputId}
          type="text"
          value={value}
          placeholder={placeholder}
          spellCheck={false}
          aria-invalid={error ? true : undefined}
          aria-describedby={describedBy || undefined}
          onChange={(event) => onChange(event.target.value)}
        />
        {dialogs && (
          <button type="button" onClick={() => void browse()}>
            Browse…
          </button>
        )}
      </div>
      {(error || hint || note || children) && (
        // One notes block, the action included: the run form lays each field out in three rows
        // (label, control, notes), and a fourth child would land on top of the notes.
        <div className="field-notes">
          {error ? (
            <span id={statusId} className="field-error">{error}</span>
          ) : hint ? (
            <span id={statusId} className="field-hint">{hint}</span>
          ) : null}
          {note && <span id={noteId} className="field-note">{note}</span>}
          {children}
        </div>
      )}
    </div>
  );
}
