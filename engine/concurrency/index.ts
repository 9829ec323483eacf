/** Flow concurrency limits: admission, queueing and release of execution slots, in the database. */
export { ConcurrencyGate, DEFAULT_SLOT_POLL_MS, SLOT_CHANNEL, type Admission, type ConcurrencyGateOptions, type ConcurrencyBehavior, type ConcurrencyLimit, type SlotHolder } from './gate.ts';
