/**
 * Who holds a journal lease, and whether that process still runs. A holder is `host:pid:random` (the
 * journal's default owner); the journal takes over at once the jobs of a dead holder on its own machine,
 * and `faultline doctor --journal` counts them. One rule for both.
 */

/** Whether a process with this id runs on this machine (EPERM: it runs, as another user). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: unknown }).code === 'EPERM';
  }
}

/** The pid of `holder` when it names a process on `host`, else undefined (another machine, or not `host:pid:…`). */
export function localHolderPid(holder: string, host: string): number | undefined {
  const [h, pidText] = holder.split(':');
  const pid = Number(pidText);
  return h === host && Number.isInteger(pid) && pid > 0 ? pid : undefined;
}
