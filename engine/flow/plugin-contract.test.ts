import { describe, expect, it } from 'vitest';
import { Kind } from '@sinclair/typebox';
import type { PluginKind } from '../contract/index.ts';
import { pluginCatalogue } from './plugin-catalogue.ts';
import { KINDS } from './schema.ts';
import { formatProblem, validateFlowSource } from './validate.ts';

/**
 * The plugin contract, enforced for every registered type of every kind: a description, a title, an
 * outputs schema, a properties schema, and at least one example that validates as written. A plugin
 * added without them fails here, whatever its kind.
 */
const KIND_NAMES = Object.keys(KINDS) as PluginKind[];

describe('plugin contract', () => {
  it('has every kind registered', () => {
    for (const kind of KIND_NAMES) expect(KINDS[kind].registry.all().length, kind).toBeGreaterThan(0);
  });

  for (const kind of KIND_NAMES) {
    for (const plugin of KINDS[kind].registry.all()) {
      describe(`${kind} ${plugin.type}`, () => {
        it('has a title, a one-paragraph description and TypeBox object schemas for its properties and outputs', () => {
          expect(plugin.title.trim().length).toBeGreaterThan(3);
          expect(plugin.description.trim().length, 'description').toBeGreaterThan(40);
          expect(plugin.description.includes('\n\n'), 'one paragraph').toBe(false);
          expect(plugin.properties[Kind]).toBe('Object');
          expect(plugin.outputs[Kind], 'outputs schema').toBe('Object');
          expect(plugin.properties.type).toBe('object');
        });

        it('has examples that validate as written, using its current type', () => {
          expect(plugin.examples.length).toBeGreaterThan(0);
          const catalogued = pluginCatalogue(kind).find((e) => e.type === plugin.type)!;
          for (const example of catalogued.examples) {
            expect(example.code, example.title).toContain(plugin.type);
            const { problems } = validateFlowSource(example.flow, `${plugin.type}.yaml`);
            // A deprecated plugin's example may only be warned of that.
            const expected = plugin.deprecated ? problems.filter((p) => p.severity === 'warning' && p.message.includes('is deprecated')) : [];
            expect(problems.map(formatProblem), `${example.title}:\n${example.flow}`).toEqual(expected.map(formatProblem));
          }
        });
      });
    }
  }
});
