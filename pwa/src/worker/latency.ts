// Latencies measured on this device: the last `size` durations (ms) and their p50/p95, which
// the models screen shows and the UI gates on (DESIGN.md: "fast preview" only when p95 < 400 ms).
export class LatencyWindow {
  private readonly samples: number[] = [];

  constructor(private readonly size: number) {}

  add(ms: number): void {
    this.samples.push(ms);
    if (this.samples.length > this.size) this.samples.shift();
  }

  get count(): number {
    return this.samples.length;
  }

  /** Nearest-rank p50 and p95 of the window, or null before any sample. */
  percentiles(): { p50: number; p95: number } | null {
    if (this.samples.length === 0) return null;
    const s = [...this.samples].sort((a, b) => a - b);
    const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
    return { p50: at(0.5), p95: at(0.95) };
  }
}
