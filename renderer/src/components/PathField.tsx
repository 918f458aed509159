// A host path typed in a text field, with a "Browse…" button when the desktop app offers native
// pickers (a browser cannot name a path on the host, so serve mode shows the text field alone).
import { useId } from 'react';
import { useStores } from '../store/stores';

export interface PathFieldProps {
  label: string;
  value: string;
  onChange: (path: string) => void;
  /** Folder picker, or a file picker for these extensions (no dots). */
  pick: { folder: true } | { extensions: string[] };
  placeholder?: string;
  error?: string | null;
  hint?: string | null;
  id?: string;
}

export function PathField({ label, value, onChange, pick, placeholder, error, hint, id }: PathFieldProps) {
  const dialogs = useStores().client.dialogs;
  const generated = useId();
  const inputId = id ?? generated;
  const noteId = `${inputId}-note`;
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
          aria-describedby={error || hint ? noteId : undefined}
          onChange={(event) => onChange(event.target.value)}
        />
        {dialogs && (
          <button type="button" onClick={() => void browse()}>
            Browse…
          </button>
        )}
      </div>
      {error ? (
        <span id={noteId} className="field-error">{error}</span>
      ) : hint ? (
        <span id={noteId} className="field-hint">{hint}</span>
      ) : null}
    </div>
  );
}
