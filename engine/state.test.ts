import { describe, expect, it } from 'vitest';
import {
  canTransition, exitCodeOf, IllegalTransitionError, isoDuration, isTerminal, mergeChildStates, newState, STATES, transition,
} from './state.ts';

describe('state model', () => {
  it('terminal states are exactly Kestra\'s', () => {
    expect(STATES.filter(isTerminal).sort()).toEqual(['CANCELLED', 'FAILED', 'KILLED', 'RESUBMITTED', 'RETRIED', 'SKIPPED', 'SUCCESS', 'WARNING']);
  });

  it('a terminal state only moves on through RESTARTED (FAILED may also be RETRIED)', () => {
    for (const s of ['SUCCESS', 'WARNING', 'KILLED', 'CANCELLED'] as const) {
      expect(STATES.filter((t) => canTransition(s, t))).toEqual(['RESTARTED']);
    }
    expect(canTransition('SKIPPED', 'RUNNING')).toBe(false);
  });

  it('transition records history, end date and duration; an illegal one throws', () => {
    const created = newState('CREATED', new Date('2024-01-01T00:00:00.000Z'));
    const running = transition(created, 'RUNNING', 'x', new Date('2024-01-01T00:00:01.000Z'));
    const done = transition(running, 'SUCCESS', 'x', new Date('2024-01-01T00:01:02.500Z'));
    expect(done.histories.map((h) => h.state)).toEqual(['CREATED', 'RUNNING', 'SUCCESS']);
    expect(done.endDate).toBe('2024-01-01T00:01:02.500Z');
    expect(done.duration).toBe('PT1M2.5S');
    expect(running.endDate).toBeUndefined();
    expect(() => transition(done, 'RUNNING', 'task run abc')).toThrow(IllegalTransitionError);
    expect(() => transition(done, 'RUNNING', 'task run abc')).toThrow(/SUCCESS → RUNNING for task run abc/);
  });

  it('children merge as guessFinalState: FAILED > KILLED > WARNING > SUCCESS; SKIPPED counts as success', () => {
    expect(mergeChildStates([])).toBe('SUCCESS');
    expect(mergeChildStates(['SUCCESS', 'SKIPPED'])).toBe('SUCCESS');
    expect(mergeChildStates(['SUCCESS', 'WARNING'])).toBe('WARNING');
    expect(mergeChildStates(['WARNING', 'KILLED'])).toBe('KILLED');
    expect(mergeChildStates(['KILLED', 'FAILED', 'WARNING'])).toBe('FAILED');
  });

  it('exit codes of baton run', () => {
    expect(exitCodeOf('SUCCESS')).toBe(0);
    expect(exitCodeOf('WARNING')).toBe(0);
    for (const s of ['FAILED', 'KILLED', 'CANCELLED'] as const) expect(exitCodeOf(s)).toBe(1);
  });

  it('ISO durations print like Java', () => {
    expect(isoDuration(0)).toBe('PT0S');
    expect(isoDuration(1234)).toBe('PT1.234S');
    expect(isoDuration(3_600_000 + 60_000)).toBe('PT1H1M');
  });
});
