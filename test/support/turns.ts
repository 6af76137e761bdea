/** Waits, turn by turn of the event loop (at most 2,000, no timers), until `check` holds; throws naming `what`. */
export async function untilTurns(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2_000; i++) {
    if (check()) return;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error(`never happened: ${what}`);
}
