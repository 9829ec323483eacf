import { describe, expect, test } from 'vitest';
import { DETECTION_ORDER, VERIFIERS } from './registry.ts';

describe('registry', () => {
  test('every verifier is keyed by its own provider', () => {
    for (const [provider, verifier] of Object.entries(VERIFIERS)) expect(verifier.provider).toBe(provider);
  });

  test('detection tries every provider exactly once, Gitea before GitHub', () => {
    expect([...DETECTION_ORDER].sort()).toEqual(Object.keys(VERIFIERS).sort());
    expect(DETECTION_ORDER.indexOf('gitea')).toBeLessThan(DETECTION_ORDER.indexOf('github'));
  });
});
