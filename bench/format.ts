/**
 * @module How figures are printed: rates with thousands separators, times in ms or µs, sizes in MB.
 */

export function rate(perSec: number, unit = 'ops/s'): string {
  return `${Math.round(perSec).toLocaleString('en-US')} ${unit}`;
}

export function ms(value: number | undefined): string {
  if (value === undefined || Number.isNaN(value)) return '-';
  if (value >= 100) return `${value.toFixed(0)} ms`;
  if (value >= 10) return `${value.toFixed(1)} ms`;
  return `${value.toFixed(2)} ms`;
}

export function us(valueMs: number): string {
  return `${(valueMs * 1000).toFixed(1)} µs`;
}

export function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

export function seconds(s: number): string {
  return `${s.toFixed(2)} s`;
}

export function percent(p: number): string {
  return `${p.toFixed(2)} % of a core`;
}

export function ratio(r: number): string {
  return `${r.toFixed(2)} ×`;
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message.split('\n')[0] ?? error.name : String(error);
}
