/** Starting task commands on this host: directly, or through the fast-forking helper process. */
export {
  DirectSpawner, HelperSpawner, SpawnError, SpawnerLostError,
  type CommandSpawner, type SpawnedCommand, type SpawnRequest, type CommandExit, type HelperSpawnerOptions,
} from './spawner.ts';
