/** The `code` of a Node system error (`ENOENT`, `EEXIST`, …), or undefined for any other thrown value. */
export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
