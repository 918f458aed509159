// One run flag as a form control, chosen by the flag's kind: a checkbox for booleans, a select for
// a fixed choice (or the given options), a text field otherwise. The label always names the flag;
// the rest of its help sits under the control, as does a wrong value's reason.
import { flagControlId, type FieldModel, type FieldValue } from './formModel';

export interface FlagFieldProps {
  field: FieldModel;
  value: FieldValue;
  error: string | undefined;
  onChange: (value: FieldValue) => void;
  /** Choices from the host (models, devices) for a flag whose table entry has none. */
  options?: readonly { value: string; label: string }[];
}

export function FlagField({ field, value, error, onChange, options }: FlagFieldProps) {
  const id = flagControlId(field.name);
  const errorId = `${id}-error`;
  const noteId = `${id}-note`;
  // The error first: a screen reader reads what is wrong before the flag's caveats.
  const describedBy = [error ? errorId : null, field.note ? noteId : null].filter(Boolean).join(' ');
  const described = {
    ...(error ? { 'aria-invalid': true } : {}),
    ...(describedBy ? { 'aria-describedby': describedBy } : {}),
  };
  const notes = <FieldNotes note={field.note} noteId={noteId} error={error} errorId={errorId} />;
  const defaultText = field.spec.default === null ? 'unset' : Array.isArray(field.spec.default) ? field.spec.default.join(' ') : String(field.spec.default);

  if (typeof value === 'boolean') {
    return (
      <div className="field field-check">
        <div className="field-check-row">
          <input id={id} type="checkbox" checked={value} onChange={(event) => onChange(event.target.checked)} {...described} />
          <label htmlFor={id}><FlagLabel field={field} /></label>
        </div>
        {notes}
      </div>
    );
  }

  const choices = options ?? field.choices?.map((choice) => ({ value: choice, label: choice }));
  return (
    <div className="field">
      <label htmlFor={id}><FlagLabel field={field} /></label>
      {choices ? (
        <select id={id} value={value} onChange={(event) => onChange(event.target.value)} {...described}>
          {/* A value the list lacks (a cloned run's alias, a device not present now) stays selectable. */}
          {!choices.some((choice) => choice.value === value) && <option value={value}>{value || '(none)'}</option>}
          {choices.map((choice) => (
            <option key={choice.value} value={choice.value}>
              {choice.label}
            </option>
          ))}
        </select>
      ) : (
        <input
          id={id}
          type="text"
          value={value}
          placeholder={defaultText}
          spellCheck={false}
          inputMode={field.spec.kind === 'int' || field.spec.kind === 'float' ? 'decimal' : undefined}
          onChange={(event) => onChange(event.target.value)}
          {...described}
        />
      )}
      {notes}
    </div>
  );
}

/** "Peak learning rate (--lr)", the flag's name kept on one line rather than broken after "(--". */
/** Characters of "(--flag)" past which it may break: longer ones do not fit the form's narrowest column. */
const LONG_FLAG = 24;

function FlagLabel({ field }: { field: FieldModel }) {
  const flag = `(--${field.name})`;
  const title = field.label.slice(0, field.label.length - flag.length);
  return (
    <>
      {title}
      <span className={flag.length > LONG_FLAG ? 'flag-name flag-name-long' : 'flag-name'}>{flag}</span>
    </>
  );
}

/** Under the control: a wrong value's reason, then the help's caveats, muted. Nothing when neither. */
function FieldNotes({ note, noteId, error, errorId }: { note: string | null; noteId: string; error: string | undefined; errorId: string }) {
  if (!note && !error) return null;
  return (
    <div className="field-notes">
      {error && <span id={errorId} className="field-error">{error}</span>}
      {note && <span id={noteId} className="field-note">{note}</span>}
    </div>
  );
}
