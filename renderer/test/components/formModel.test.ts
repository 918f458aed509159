// The run form's labels: a flag's help split into a short title and the note under its field.
import { describe, expect, it } from 'vitest';
import { runFlags, type RunFlagName } from '../../../shared/config';
import { flagLabel, splitHelp } from '../../src/components/runForm/formModel';

describe('splitHelp', () => {
  it('keeps a short help whole as the title', () => {
    expect(splitHelp('lr')).toEqual({ title: 'Peak learning rate', note: null });
    // A colon inside parentheses is part of the title, not a cut.
    expect(splitHelp('clip_grad')).toEqual({ title: 'Clip gradient norm (none: no clipping)', note: null });
  });

  it('cuts at the first colon or semicolon outside parentheses', () => {
    expect(splitHelp('warmup_steps')).toEqual({ title: 'Warm-up iterations', note: 'overrides warmup_epochs when > 0' });
    expect(splitHelp('nb_classes').title).toBe('Number of classes');
  });

  it('cuts a long title at its parenthesis, unwrapping a note that is only that parenthesis', () => {
    expect(splitHelp('weight_decay_end')).toEqual({ title: 'Final weight decay of the cosine schedule', note: 'default: weight_decay' });
  });

  it('titles a help that opens with one of its values by the flag name, the help whole as note', () => {
    const { title, note } = splitHelp('data_set');
    expect(title).toBe('Data set');
    expect(note).toBe(runFlags.data_set.help);
  });

  it('loses no word of any help, and keeps every title short', () => {
    for (const name of Object.keys(runFlags) as RunFlagName[]) {
      const { title, note } = splitHelp(name);
      const words = (text: string) => text.replace(/[():;]/g, ' ').split(/\s+/).filter(Boolean);
      expect(new Set([...words(title), ...words(note ?? '')])).toEqual(
        new Set(note === runFlags[name].help ? [...words(title), ...words(note)] : words(runFlags[name].help)),
      );
      expect(flagLabel(name).endsWith(`(--${name})`)).toBe(true);
    }
  });
});
