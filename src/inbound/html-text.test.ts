import { describe, expect, it } from 'vitest';
import { HTML_TEXT_LIMITS, htmlToText } from './html-text.ts';
import { stripHtml } from './html-text-worker.ts';

const nested = (n: number) => `${'<div>'.repeat(n)}x${'</div>'.repeat(n)}`;

describe('HTML to text (default limits)', () => {
  it('converts ordinary HTML with html-to-text in a worker thread', async () => {
    const result = await htmlToText('<p>Hello <b>there</b> &amp; welcome</p><ul><li>one</li></ul>', { maxChars: 1000 });
    expect(result).toEqual({ text: 'Hello there & welcome\n\n * one', size: 29, method: 'full' });
  });

  it('gives HTML nested past the depth limit the linear strip, which keeps its words', async () => {
    for (const n of [HTML_TEXT_LIMITS.maxDepth + 1, 2_500, 100_000]) {
      expect(await htmlToText(nested(n), { maxChars: 1000 })).toEqual({ text: 'x', size: 1, method: 'stripped' });
    }
    // Within the limit the full converter takes it.
    expect((await htmlToText(nested(200), { maxChars: 1000 })).method).toBe('full');
  });

  it('gives HTML past the size limit the strip, and cuts the text to maxChars while reporting the whole size', async () => {
    const html = '<p>abc</p>'.repeat(HTML_TEXT_LIMITS.maxFullChars / 10 + 1);
    const result = await htmlToText(html, { maxChars: 100 });
    expect(result.method).toBe('stripped');
    expect(result.text).toBe('abc\n\n'.repeat(20).slice(0, 100));
    expect(result.size).toBeGreaterThan(400_000);
  });

  it('answers null text, never an error, when no conversion finishes within the budget', async () => {
    // A budget no worker can meet for 1.6 MB: the conversion and the strip are both cut off.
    expect(await htmlToText('<p>x</p>'.repeat(200_000), { maxChars: 1000, budgetMs: 1 })).toEqual({ text: null, size: 0, method: 'none' });
  });

  it('returns null for HTML without words', async () => {
    expect(await htmlToText('<br><br><p> </p>', { maxChars: 1000 })).toMatchObject({ text: null });
  });
});

describe('the linear strip', () => {
  it('keeps visible text, decodes entities, breaks lines at blocks and drops script, style and title', () => {
    const html = '<html><head><title>T</title><style>p{color:red}</style></head><body><p>One &lt;two&gt;&nbsp;three</p><script>alert("x")</script><div>Four<br>five</div></body></html>';
    expect(stripHtml(html)).toEqual({ text: 'One <two> three\n\nFour\nfive', depth: 3 });
  });

  it('estimates nesting without counting void or self-ending elements', () => {
    expect(stripHtml(nested(50)).depth).toBe(50);
    expect(stripHtml('<p>a<p>b<p>c<br><img src=x><li>d').depth).toBe(0);
    expect(stripHtml('</div></div><div>x</div>').depth).toBe(1);
  });
});
