import { InputError, isTaskId } from '@tsk/engine/core';

/** Task ids from a command's arguments, checked (8 characters of [A-Za-z0-9_]), at least one. */
export function taskIdsFrom(argv: readonly unknown[]): string[] {
  const ids = argv.map(String);
  if (ids.length === 0) throw new InputError('Give at least one task id', { hint: 'see `tsk list`' });
  const bad = ids.find((id) => !isTaskId(id));
  if (bad !== undefined) throw new InputError(`"${bad}" is not a task id (8 characters of A-Z, a-z, 0-9, _)`);
  return [...new Set(ids)];
}
