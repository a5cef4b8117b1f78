/** OS users, read from the passwd database (getent, so NSS sources count too). */
import { execFileSync } from 'node:child_process';
import { TaskError } from './controller.ts';

export interface OsUserInfo {
  uid: number;
  gid: number;
  home: string;
}

/** The user named `name`; a fatal TaskError when there is none. */
export function lookupUser(name: string): OsUserInfo {
  let line: string;
  try {
    line = execFileSync('getent', ['passwd', name], { encoding: 'utf8' }).trim();
  } catch {
    throw new TaskError(`no such OS user "${name}" on this machine`);
  }
  const [, , uid, gid, , home] = line.split(':');
  return { uid: Number(uid), gid: Number(gid), home: home ?? '/' };
}
