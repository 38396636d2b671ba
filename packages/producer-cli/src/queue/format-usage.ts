import type { AgentUsage } from '@tsk/engine/core';

/** `$0.42` (Claude reports cost), `15.2k tok` (Codex reports tokens), or `-`: short enough for a column. */
export function formatUsage(usage: AgentUsage): string {
  if (usage.costUsd !== undefined) return usage.costUsd > 0 && usage.costUsd < 0.01 ? '<$0.01' : `$${usage.costUsd.toFixed(2)}`;
  const tokens = (usage.inputTokens ?? 0) + (usage.outputTokens ?? 0);
  if (usage.inputTokens === undefined && usage.outputTokens === undefined) return '-';
  return tokens >= 1000 ? `${(tokens / 1000).toFixed(1)}k tok` : `${tokens} tok`;
}
