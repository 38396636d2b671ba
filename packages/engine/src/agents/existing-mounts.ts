import { existsSync } from 'node:fs';
import type { AgentMount } from './agent.js';

/** Keep only mounts whose host path exists: Docker would otherwise create an empty root-owned dir. */
export function existingMounts(mounts: AgentMount[]): AgentMount[] {
  return mounts.filter((mount) => existsSync(mount.source));
}
