/**
 * Releases on the machine (Capistrano's layout), what the `process` controller calls: where
 * releases live and the atomic `current` switch (layout.ts), staging an artifact into a release
 * (stage.ts), the hooks around a switch (hooks.ts), keeping `keep` releases (prune.ts), the task's
 * own log (log.ts), and what the supervisor runs for a node (programs.ts).
 */
export { appsDirOf, currentDir, currentVersion, releaseLayout, switchCurrent, type ReleaseLayout } from './layout.ts';
export { hookOf, runHook, type HookName, type HookRun } from './hooks.ts';
export { listReleases, pruneReleases, type PruneOptions } from './prune.ts';
export { stageRelease, type StageOptions } from './stage.ts';
export { taskLog, type TaskLog } from './log.ts';
export { activePrograms, isUp, untilUp, type NodeProgram } from './programs.ts';
