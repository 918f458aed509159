// One line per finished epoch, as `pix train` prints it and the workbench's run console shows it:
// the training loss, then the evaluation (when the epoch had one) of the network and of each EMA
// (the log.txt record's test_* and <ema>_test_* fields).
export function epochSummary(record: Record<string, unknown>): string {
  const number = (key: string): number | undefined => (typeof record[key] === 'number' ? (record[key] as number) : undefined);
  const parts = [`epoch ${record.epoch}: train loss ${number('train_loss')?.toFixed(4) ?? '—'}`];
  const evaluation = (prefix: string, label: string) => {
    const [acc1, acc5, loss] = ['acc1', 'acc5', 'loss'].map((what) => number(`${prefix}test_${what}`));
    if (acc1 === undefined) return;
    parts.push(`${label}acc1 ${acc1.toFixed(2)}%` + (acc5 === undefined ? '' : ` acc5 ${acc5.toFixed(2)}%`) +
      (loss === undefined ? '' : ` loss ${loss.toFixed(4)}`));
  };
  evaluation('', 'test ');
  for (const key of Object.keys(record)) {
    const ema = /^(ema(?:_[^_]+)?)_test_acc1$/.exec(key)?.[1];
    if (ema) evaluation(`${ema}_`, `${ema.replace('_', ' ')} `);
  }
  return parts.join(' ');
}
