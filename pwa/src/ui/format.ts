// Numbers as people read them.

export function bytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '—';
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n,
    i = -1;
  do {
    v /= 1000;
    i++;
  } while (v >= 1000 && i < units.length - 1);
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

export function percent(part: number, whole: number): string {
  if (whole <= 0) return '0 %';
  return `${Math.min(100, Math.floor((part / whole) * 100))} %`;
}

export function ms(n: number | null): string {
  return n === null ? '—' : `${n < 10 ? n.toFixed(1) : Math.round(n)} ms`;
}

export function when(unixMs: number): string {
  return new Date(unixMs).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}
