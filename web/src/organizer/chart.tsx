/** Orders per minute as an SVG bar chart (no chart library: a few rects and labels). */
export function OrdersChart({ points }: { points: { minute: string; count: number }[] }) {
  const w = 600;
  const h = 200;
  const pad = { l: 44, r: 8, t: 12, b: 34 };
  const max = Math.max(1, ...points.map((p) => p.count));
  const bw = points.length > 0 ? (w - pad.l - pad.r) / points.length : 0;
  const y = (v: number) => pad.t + (h - pad.t - pad.b) * (1 - v / max);
  const label = (iso: string) => new Date(iso).toLocaleTimeString('en-US', { hour: '2-digit', minute: '2-digit', hour12: false });
  const ticks = [0, Math.round(max / 2), max];
  const every = Math.max(1, Math.ceil(points.length / 4));
  const total = points.reduce((n, p) => n + p.count, 0);
  return (
    <figure>
      <svg
        viewBox={`0 0 ${w} ${h}`}
        class="h-auto w-full"
        role="img"
        aria-label={`Orders per minute over the last ${points.length} minutes: ${total} in all, at most ${max} in one minute`}
      >
        {ticks.map((t) => (
          <g key={t}>
            <line x1={pad.l} x2={w - pad.r} y1={y(t)} y2={y(t)} stroke="#e2e8f0" />
            <text x={pad.l - 6} y={y(t) + 4} text-anchor="end" font-size="18" fill="#334155">
              {t}
            </text>
          </g>
        ))}
        {points.map((p, i) => (
          <g key={p.minute}>
            <rect
              x={pad.l + i * bw + 1}
              y={y(p.count)}
              width={Math.max(1, bw - 2)}
              height={h - pad.b - y(p.count)}
              fill="#1d4ed8"
            >
              <title>
                {label(p.minute)}: {p.count} orders
              </title>
            </rect>
            {i % every === 0 && (
              <text x={pad.l + i * bw + bw / 2} y={h - 8} text-anchor="middle" font-size="18" fill="#334155">
                {label(p.minute)}
              </text>
            )}
          </g>
        ))}
      </svg>
      <figcaption class="text-sm text-slate-700">Orders per minute</figcaption>
    </figure>
  );
}
