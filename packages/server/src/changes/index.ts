export { createChangeFeed, CHANGES_CHANNEL, type Change, type ChangeFeed, type ChangeHandler } from './feed.ts';
export { createWriter, type Writer, type WriteContext, type Actor, type AuditEntry, SYSTEM_ACTOR } from './writer.ts';
