// Whether a process is alive, as the lock and the temp-file cleanup both need to know.

/** Whether process `pid` runs on this machine. EPERM: it does, as another user's. */
export function pidAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  // kill(0) and kill(-1) signal a group or every process: they say nothing of one process.
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
