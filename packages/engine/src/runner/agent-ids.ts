/** The uid/gid of the sandbox user `agent`. */
export interface AgentIds {
  uid: number;
  gid: number;
}

/** Fallback ids for the sandbox user when tsk itself runs as root: the agent must never be root. */
const UNPRIVILEGED = 1000;

/**
 * The host user's uid/gid, so files the agent writes belong to the user; when tsk runs as root (CI,
 * servers) an unprivileged 1000:1000 instead, and the workspace is chowned to it.
 */
export function agentIds(): AgentIds {
  const uid = process.getuid?.() ?? UNPRIVILEGED;
  const gid = process.getgid?.() ?? UNPRIVILEGED;
  return uid === 0 ? { uid: UNPRIVILEGED, gid: UNPRIVILEGED } : { uid, gid };
}
