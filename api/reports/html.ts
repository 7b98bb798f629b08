/**
 * Printable report pages: one stylesheet, escaping in one place, headings in
 * English and 中文. No scripts and no external assets, so a page prints and
 * archives as it is.
 */
const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function esc(value: unknown): string {
  if (value === null || value === undefined || value === '') return '—';
  return String(value).replace(/[&<>"']/g, (ch) => ESCAPES[ch]!);
}

/** Section heading: English with the Chinese term beside it. */
export const heading = (en: string, zh: string) => `<h2>${esc(en)} <span class="zh">${esc(zh)}</span></h2>`;

export function table(headers: string[], rows: unknown[][]): string {
  if (!rows.length) return '<p class="empty">None · 无</p>';
  return `<table><thead><tr>${headers.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((cell) => `<td>${cell instanceof Raw ? cell.html : esc(cell)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

/** Already-escaped HTML for a table cell. */
export class Raw {
  constructor(readonly html: string) {}
}

export function page(title: string, subtitle: string, body: string): string {
  return `<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>
  body { font: 14px/1.5 system-ui, "PingFang SC", "Microsoft YaHei", sans-serif; margin: 2rem auto; max-width: 60rem; color: #1d2733; }
  h1 { font-size: 1.5rem; margin-bottom: 0; } .subtitle { color: #5b6773; margin-top: .25rem; }
  h2 { font-size: 1.1rem; border-bottom: 2px solid #d6dde4; padding-bottom: .25rem; margin-top: 2rem; }
  .zh { color: #5b6773; font-weight: normal; }
  table { border-collapse: collapse; width: 100%; margin: .5rem 0; }
  th, td { border: 1px solid #d6dde4; padding: .35rem .5rem; text-align: left; vertical-align: top; }
  th { background: #f3f6f8; } code { font-size: 12px; word-break: break-all; }
  .grade-high { color: #b00020; font-weight: 600; } .grade-medium { color: #a15c00; font-weight: 600; } .grade-low { color: #1b6e3a; font-weight: 600; }
  .empty { color: #5b6773; font-style: italic; }
  @media print { body { margin: 0; max-width: none; } h2 { break-after: avoid; } tr { break-inside: avoid; } }
</style>
</head>
<body>
<h1>${esc(title)}</h1>
<p class="subtitle">${esc(subtitle)}</p>
${body}
</body>
</html>`;
}
