/** Polls `check` every 20 ms until it returns something truthy, which it returns; throws after `ms`. */
export async function until<T>(check: () => T | undefined | false, ms = 20_000): Promise<T> {
  for (const end = Date.now() + ms; ; ) {
    const v = check();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
