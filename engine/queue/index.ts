/** The work queue: unfinished executions claimed under leases with fencing tokens (see work-queue.ts). */
export {
  WorkQueue, LeaseLostError, WORK_CHANNEL, ENDED_CHANNEL, DEFAULT_LEASE_MS, type Lease, type WorkQueueOptions,
} from './work-queue.ts';
