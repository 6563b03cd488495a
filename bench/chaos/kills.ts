/**
 * Fired kills, shared by every process of a run: one marker file per kill (`<key>@<point>`), created
 * exclusively, so each planned kill fires once across the harness and all workers, and the harness can
 * list what fired.
 */
import { closeSync, openSync, readdirSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { KillPoint } from './plan.ts';

/** True for the one caller that gets to fire `point` for `key` (recording who did). */
export function claimKill(dir: string, key: string, point: KillPoint, tag: string): boolean {
  let fd: number;
  try {
    fd = openSync(join(dir, `${key}@${point}`), 'wx');
  } catch {
    return false; // fired already, by this or another process
  }
  writeSync(fd, JSON.stringify({ key, point, tag, t: Date.now() }));
  closeSync(fd);
  return true;
}

/** Every kill that fired. */
export function firedKills(dir: string): { key: string; point: KillPoint }[] {
  return readdirSync(dir).map((f) => {
    const [key, point] = f.split('@') as [string, KillPoint];
    return { key, point };
  });
}
