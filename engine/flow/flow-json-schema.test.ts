import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import * as ajvFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { flowJsonSchema } from './flow-json-schema.ts';
import { validateFlowSource } from './validate.ts';

/**
 * The flow JSON Schema editors use, checked as an editor checks it (a plain ajv, no Baton keyword or
 * format): it accepts every fixture flow Baton accepts and, for the invalid fixtures whose fault a
 * schema can see (an unknown property or type, a wrong value, a missing property), refuses them as
 * `baton validate` does.
 */
const FIXTURES = join(import.meta.dirname, '..', '..', 'test', 'fixtures');

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'invalid' ? [] : yamlFiles(path);
    return /\.ya?ml$/.test(entry.name) ? [path] : [];
  });
}

const ajv = new Ajv2020({ allErrors: true, strict: false });
((ajvFormats as unknown as { default?: (a: Ajv2020) => void }).default ?? (ajvFormats as unknown as (a: Ajv2020) => void))(ajv);
const validate = ajv.compile(flowJsonSchema());

/** Messages of the faults a JSON Schema can express. */
const SCHEMA_FAULT = /unknown (property|task type|trigger type|condition type|task runner type|input type|top-level property)|must be|missing required property|must have at least|must not be empty|needs at least/;

describe('flow JSON Schema', () => {
  const valid = yamlFiles(FIXTURES).filter((file) => {
    const result = validateFlowSource(readFileSync(file, 'utf8'), file);
    return result.flow !== undefined;
  });

  it('is found for the fixture flows', () => {
    expect(valid.length).toBeGreaterThan(30);
  });

  for (const file of valid) {
    it(`accepts ${file.slice(FIXTURES.length + 1)}`, () => {
      const ok = validate(parse(readFileSync(file, 'utf8')));
      expect(ok, JSON.stringify(validate.errors?.slice(0, 5), null, 1)).toBe(true);
    });
  }

  const invalidDir = join(FIXTURES, 'invalid');
  const schemaFaults = readdirSync(invalidDir).filter((name) => {
    const errors = validateFlowSource(readFileSync(join(invalidDir, name), 'utf8'), name).problems.filter((p) => p.severity === 'error');
    return errors.length > 0 && errors.every((p) => SCHEMA_FAULT.test(p.message) && !/^invalid default|must be less than|YAML/.test(p.message));
  });

  it('has invalid fixtures whose fault a schema can see', () => {
    expect(schemaFaults.length).toBeGreaterThan(10);
    expect(schemaFaults).toEqual(expect.arrayContaining(['task-runner-unknown-property.yaml', 'task-runner-unknown-type.yaml']));
  });

  for (const name of schemaFaults) {
    it(`refuses invalid/${name}`, () => {
      expect(validate(parse(readFileSync(join(invalidDir, name), 'utf8')))).toBe(false);
    });
  }

  it('names every registered type, older names included, and refers each to its own properties', () => {
    const schema = flowJsonSchema() as { $defs: Record<string, { properties?: Record<string, { enum?: string[] }> }> };
    expect(schema.$defs.task.properties?.type.enum).toEqual(expect.arrayContaining(['io.kestra.plugin.core.log.Log', 'io.kestra.core.tasks.log.Log']));
    expect(schema.$defs.runner.properties?.type.enum).toEqual(expect.arrayContaining(['io.kestra.plugin.scripts.runner.docker.Docker', 'io.kestra.plugin.core.runner.Process']));
    expect(Object.keys(schema.$defs['runner:io.kestra.plugin.scripts.runner.docker.Docker'].properties ?? {})).toContain('pullPolicy');
  });
});
