/** Workers: claim executions from the work queue and run them (see worker.ts). */
export { Worker, newWorkerId, type WorkerOptions, type WorkerLog } from './worker.ts';
