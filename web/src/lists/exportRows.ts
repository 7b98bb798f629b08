/**
 * Every list exports what it shows (issue 13 §4): the rows loaded so far,
 * in the columns shown, with the texts the page shows (dates in the user's
 * time zone, labels in their language). CSV carries a UTF-8 byte-order mark
 * so Excel opens Chinese text correctly; XLSX is written in the browser by
 * write-excel-file.
 */
import writeXlsxFile from 'write-excel-file/browser';

export type ExportValue = string | number | null;

export interface ExportTable {
  headers: string[];
  rows: ExportValue[][];
}

const BOM = '\uFEFF';

/** One CSV field (RFC 4180): quoted when it holds a comma, quote or line break. */
function csvField(value: ExportValue): string {
  if (value === null) return '';
  const text = String(value);
  // A leading =, +, - or @ would be read by a spreadsheet as a formula: prefix it (CSV injection).
  const safe = /^[=+\-@\t\r]/.test(text) && typeof value === 'string' ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function toCsv(table: ExportTable): string {
  return BOM + [table.headers, ...table.rows].map((row) => row.map(csvField).join(',')).join('\r\n') + '\r\n';
}

function download(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function downloadCsv(table: ExportTable, baseName: string): void {
  download(new Blob([toCsv(table)], { type: 'text/csv;charset=utf-8' }), `${baseName}.csv`);
}

export async function downloadXlsx(table: ExportTable, baseName: string): Promise<void> {
  const blob = await writeXlsxFile([
    table.headers.map((h) => ({ value: h, fontWeight: 'bold' as const })),
    ...table.rows.map((row) => row.map((value) => (value === null ? null : { value }))),
  ]).toBlob();
  download(blob, `${baseName}.xlsx`);
}
