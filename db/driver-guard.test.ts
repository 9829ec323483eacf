import { describe, expect, it } from 'vitest';
import { isDriverWriteAfterClose } from './driver-guard.ts';

describe('isDriverWriteAfterClose', () => {
  it("matches postgres.js's write on a closed socket, and nothing else", () => {
    const driver = new TypeError("Cannot read properties of null (reading 'write')");
    driver.stack = `TypeError: Cannot read properties of null (reading 'write')\n    at Immediate.nextWrite (file:///app/node_modules/postgres/src/connection.js:255:22)\n    at process.processImmediate (node:internal/timers:483:21)`;
    expect(isDriverWriteAfterClose(driver)).toBe(true);
    const ours = new TypeError("Cannot read properties of null (reading 'write')");
    ours.stack = `TypeError: Cannot read properties of null (reading 'write')\n    at save (file:///app/engine/executor/state-writer.ts:10:1)`;
    expect(isDriverWriteAfterClose(ours)).toBe(false);
    expect(isDriverWriteAfterClose(new Error('nextWrite postgres/src/connection.js'))).toBe(false);
  });
});
