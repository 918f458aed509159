// A checkpoint's metadata, readable: one row per entry, and an entry whose value is a JSON object
// (a workbench checkpoint's run config, an official checkpoint's args) a collapsible table of its
// settings, one per row, instead of one line of JSON hundreds of characters long.

/** The value as a JSON object of settings, or null when it is anything else (text, a number, a list). */
export function settingsOf(value: string): Record<string, unknown> | null {
  if (!value.trimStart().startsWith('{')) return null;
  try {
    const parsed: unknown = JSON.parse(value);
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** One setting as text: strings as they are (the empty one visibly so), lists spaced, the rest as JSON. */
export function settingText(value: unknown): string {
  if (typeof value === 'string') return value === '' ? '""' : value;
  if (Array.isArray(value)) return `[${value.map(settingText).join(', ')}]`;
  return JSON.stringify(value) ?? String(value);
}

export function MetadataList({ metadata }: { metadata: Record<string, string> }) {
  return (
    <dl className="facts metadata">
      {Object.entries(metadata).map(([key, value]) => {
        const settings = settingsOf(value);
        return (
          <div className="fact" key={key}>
            <dt>{key}</dt>
            <dd className={settings ? undefined : 'path mono'}>{settings ? <SettingsTable name={key} settings={settings} /> : value}</dd>
          </div>
        );
      })}
    </dl>
  );
}

function SettingsTable({ name, settings }: { name: string; settings: Record<string, unknown> }) {
  const entries = Object.entries(settings);
  return (
    <details className="settings">
      <summary>{entries.length} settings</summary>
      <table className="table settings-table" aria-label={`${name} settings`}>
        <tbody>
          {entries.map(([key, value]) => (
            <tr key={key}>
              <th scope="row">{key}</th>
              <td className="path mono">{settingText(value)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}
