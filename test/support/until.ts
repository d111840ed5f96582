/** Polls `check` (sync or async) every 20 ms until it gives something truthy, which it returns; throws after `ms`. */
export async function until<T>(check: () => T | undefined | false | Promise<T | undefined | false>, ms = 20_000): Promise<T> {
  for (const end = Date.now() + ms; ; ) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
