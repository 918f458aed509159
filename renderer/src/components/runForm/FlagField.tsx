// One run flag as a form control, chosen by the flag's kind: a checkbox for booleans, a select for
// a fixed choice (or the given options), a text field otherwise. The label always names the flag.
import { useId } from 'react';
import type { FieldModel, FieldValue } from './formModel';

export interface FlagFieldProps {
  field: FieldModel;
  value: FieldValue;
  error: string | undefined;
  onChange: (value: FieldValue) => void;
  /** Choices from the host (models, devices) for a flag whose table entry has none. */
  options?: readonly { value: string; label: string }[];
}

export function FlagField({ field, value, error, onChange, options }: FlagFieldProps) {
  const id = useId();
  const errorId = `${id}-error`;
  const invalid = error ? { 'aria-invalid': true, 'aria-describedby': errorId } : {};
  const defaultText = field.spec.default === null ? 'unset' : Array.isArray(field.spec.default) ? field.spec.default.join(' ') : String(field.spec.default);

  if (typeof value === 'boolean') {
    return (
      <div className="field field-check">
        <input id={id} type="checkbox" checked={value} onChange={(event) => onChange(event.target.checked)} {...invalid} />
        <label htmlFor={id}>{field.label}</label>
        {error && <span id={errorId} className="field-error">{error}</span>}
      </div>
    );
  }

  const choices = options ?? field.choices?.map((choice) => ({ value: choice, label: choice }));
  return (
    <div className="field">
      <label htmlFor={id}>{field.label}</label>
      {choices ? (
        <select id={id} value={value} onChange={(event) => onChange(event.target.value)} {...invalid}>
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
          {...invalid}
        />
      )}
      {error && <span id={errorId} className="field-error">{error}</span>}
    </div>
  );
}
