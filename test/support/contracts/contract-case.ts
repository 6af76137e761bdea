import type { TestOptions } from 'node:test';

/**
 * Cases of a contract suite that an implementation is known to break, by case ID, each with the reason. The
 * suite still runs those cases but marks them `todo`, so the failure is shown in the report without failing the
 * run; once the implementation is fixed the case passes and the entry should be removed.
 */
export type KnownViolations<Case extends string> = Partial<Readonly<Record<Case, string>>>;

/**
 * The `node:test` options of one contract case: `todo` when the implementation is known to break it, `skip`
 * when the harness lacks a hook the case needs (`missingHook` names it), otherwise none.
 */
export function caseOptions<Case extends string>(
  id: Case,
  known: KnownViolations<Case> | undefined,
  missingHook?: string,
): TestOptions {
  if (missingHook !== undefined) return { skip: `the harness has no ${missingHook} hook` };
  const reason = known?.[id];
  return reason === undefined ? {} : { todo: `known violation: ${reason}` };
}

/** Lets a few turns of the event loop pass, so that work an implementation defers (events, stream I/O) is done. */
export async function turns(count = 3): Promise<void> {
  for (let i = 0; i < count; i += 1) await new Promise<void>((resolve) => setImmediate(resolve));
}
