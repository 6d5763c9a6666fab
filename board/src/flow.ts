import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

const MINUTE = 60_000;
export const WINDOW_MINUTES = 60;
const PALETTE = ['#3b6ea5', '#c0504d', '#4f9a62', '#8064a2', '#d08a2c', '#2f8f9d', '#a65e8c', '#6b6b6b'];
const clockTime = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

/** Orders per channel per minute: the last hour, from a snapshot (orderFlow) plus each order since. */
export class FlowModel {
  private readonly minutes = new Map<string, Map<number, number>>();

  reset(buckets: { bucketStart: string; channelCode: string; orders: number }[]): void {
    this.minutes.clear();
    for (const b of buckets) this.add(b.channelCode, Date.parse(b.bucketStart), b.orders);
  }

  add(channelCode: string, atMs: number, orders = 1): void {
    let perMinute = this.minutes.get(channelCode);
    if (!perMinute) this.minutes.set(channelCode, (perMinute = new Map()));
    const minute = Math.floor(atMs / MINUTE) * MINUTE;
    perMinute.set(minute, (perMinute.get(minute) ?? 0) + orders);
  }

  channels(): string[] {
    return [...this.minutes.keys()].sort();
  }

  /** The window's minute starts, oldest first, ending with the current minute. */
  window(nowMs: number): number[] {
    const last = Math.floor(nowMs / MINUTE) * MINUTE;
    return Array.from({ length: WINDOW_MINUTES }, (_, i) => last - (WINDOW_MINUTES - 1 - i) * MINUTE);
  }

  series(channelCode: string, window: number[]): number[] {
    const perMinute = this.minutes.get(channelCode);
    return window.map((m) => perMinute?.get(m) ?? 0);
  }

  /** Forgets minutes that left the window, so a long-open board holds an hour at most. */
  prune(nowMs: number): void {
    const first = this.window(nowMs)[0];
    for (const perMinute of this.minutes.values())
      for (const minute of perMinute.keys()) if (minute < first) perMinute.delete(minute);
  }
}

/** A uPlot line chart of the model, one line per channel; rebuilt only when the set of channels changes. */
export class FlowChart {
  private plot: uPlot | null = null;
  private shown = '';

  constructor(private readonly element: HTMLElement) {
    new ResizeObserver(() => this.plot?.setSize(this.size())).observe(element);
  }

  render(model: FlowModel, nowMs: number): void {
    const channels = model.channels();
    const window = model.window(nowMs);
    const data: uPlot.AlignedData = [
      window.map((m) => m / 1000),
      ...channels.map((c) => model.series(c, window)),
    ];
    if (this.plot && this.shown === channels.join()) {
      this.plot.setData(data);
      return;
    }
    this.plot?.destroy();
    this.shown = channels.join();
    this.plot = new uPlot(
      {
        ...this.size(),
        legend: { show: true, live: false },
        cursor: { drag: { x: false, y: false } },
        scales: { y: { range: (_u, _min, max) => [0, Math.max(5, Math.ceil(max * 1.1))] } },
        axes: [
          { values: (_u, ticks) => ticks.map((t) => clockTime.format(new Date(t * 1000))) },
          { size: 48 },
        ],
        series: [
          {},
          ...channels.map((c, i) => ({
            label: c,
            stroke: PALETTE[i % PALETTE.length],
            width: 1.5,
            points: { show: false },
          })),
        ],
      },
      data,
      this.element,
    );
  }

  private size(): { width: number; height: number } {
    // The legend sits under the plot, inside the element's fixed height.
    return {
      width: Math.max(200, this.element.clientWidth),
      height: Math.max(120, this.element.clientHeight - 40),
    };
  }
}
