// Axis ticks: round steps, distinct labels, flat ranges widened.
import { describe, expect, it } from 'vitest';
import { axisTicks, axisWidth, niceStep } from '../../src/charts/ticks';

describe('niceStep', () => {
  it('rounds up to 1, 2 or 5 times a power of ten', () => {
    expect(niceStep(1, 4)).toBeCloseTo(0.5);
    expect(niceStep(0.0006, 4)).toBeCloseTo(0.0002);
    expect(niceStep(340, 4)).toBe(100);
    expect(niceStep(9, 4)).toBe(5);
  });
});

describe('axisTicks', () => {
  it('extends a value axis to round ticks with labels of the step\'s digits', () => {
    const lr = axisTicks(0.0969, 0.1003);
    expect(lr.ticks.map(lr.format)).toEqual(['0.096', '0.097', '0.098', '0.099', '0.1', '0.101']);
    expect(lr.domain[0]).toBeCloseTo(0.096);
    expect(lr.domain[1]).toBeCloseTo(0.101);
    const images = axisTicks(12, 1190);
    expect(images.ticks.map(images.format)).toEqual(['0', '500', '1,000', '1,500']);
  });

  it('keeps an x axis to its range, with only the ticks inside', () => {
    const x = axisTicks(41, 88, 6, false);
    expect(x.domain).toEqual([41, 88]);
    expect(x.ticks).toEqual([50, 60, 70, 80]);
  });

  it('widens a flat range so its ticks are distinct', () => {
    const flat = axisTicks(0.1, 0.1);
    const labels = flat.ticks.map(flat.format);
    expect(new Set(labels).size).toBe(labels.length);
    expect(flat.domain[0]).toBeLessThan(0.1);
    expect(flat.domain[1]).toBeGreaterThan(0.1);
  });

  it('writes tiny values in exponent form', () => {
    const small = axisTicks(0, 4e-5);
    expect(small.ticks.map(small.format)).toEqual(['0', '1e-5', '2e-5', '3e-5', '4e-5']);
  });

  it('puts no tick between two whole things on an integer axis (steps, counts)', () => {
    // Two logged steps, 0 and 1: not 0, 0.2, 0.4, … 1.
    const steps = axisTicks(0, 1, 6, false, true);
    expect(steps.ticks).toEqual([0, 1]);
    expect(steps.ticks.map(steps.format)).toEqual(['0', '1']);
    const counts = axisTicks(0, 3, 4, true, true);
    expect(counts.ticks).toEqual([0, 1, 2, 3]);
    // A wide range keeps its round steps.
    expect(axisTicks(0, 528, 6, false, true).ticks).toEqual([0, 100, 200, 300, 400, 500]);
  });
});

describe('axisWidth', () => {
  it('widens a value axis to its longest label, so the first steps of a learning rate are not clipped', () => {
    const lr = axisTicks(0.099996, 0.1);
    expect(lr.ticks.map(lr.format)).toContain('0.099998');
    const loss = axisTicks(0, 3);
    expect(axisWidth(lr)).toBeGreaterThan(axisWidth(loss));
    // Eight characters at 11 px need about 55 px besides the tick: more than the 56 px that clipped them.
    expect(axisWidth(lr)).toBeGreaterThanOrEqual(8 * 11 * 0.62 + 12);
    expect(axisWidth(loss)).toBe(32);
  });
});
