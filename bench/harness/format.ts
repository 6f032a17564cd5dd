/** Number formatting shared by the stderr lines and RESULTS.md. */

const PREFIXES: [number, string][] = [
  [1e12, 'T'],
  [1e9, 'G'],
  [1e6, 'M'],
  [1e3, 'k'],
];

/** Three significant figures, without exponent notation; thousands separated by commas. */
export function formatNumber(value: number, digits = 3): string {
  if (!Number.isFinite(value)) return String(value);
  if (value === 0) return '0';
  const abs = Math.abs(value);
  if (abs >= 10 ** digits) return Math.round(value).toLocaleString('en-US');
  const decimals = Math.max(0, digits - 1 - Math.floor(Math.log10(abs)));
  return Number(value.toFixed(Math.min(decimals, 20))).toLocaleString('en-US', {
    maximumFractionDigits: 20,
  });
}

/** Rates (units ending in "/s") get SI prefixes: 12,345,678 draws/s is "12.3 M draws/s". */
export function formatFigure(value: number, unit: string): string {
  if (unit.endsWith('/s') && Number.isFinite(value)) {
    for (const [scale, prefix] of PREFIXES) {
      if (Math.abs(value) >= scale) return `${formatNumber(value / scale)} ${prefix} ${unit}`;
    }
  }
  return `${formatNumber(value)} ${unit}`;
}

export function formatRatio(ratio: number | null): string {
  return ratio === null ? 'n/a' : `${formatNumber(ratio)}x`;
}
