// A grouped bar chart as a standalone SVG: one group per metric, one bar per runtime
// (its median), with a min-max whisker. Written by hand: no charting dependency.

export interface Series {
  name: string;
  /** metric -> {median, min, max}, or undefined where the runtime has no number. */
  values: Record<string, { median: number; min: number; max: number } | undefined>;
}

const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#9467bd', '#8c564b'];

const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** One chart per unit (ms, MiB): metrics of different units do not share an axis. */
export function barChart(title: string, metrics: { key: string; label: string }[], series: Series[], unit: string): string {
  const barW = 18;
  const gap = 28;
  const groupW = series.length * barW + gap;
  const left = 60;
  const top = 50;
  const plotH = 260;
  const width = left + metrics.length * groupW + 20;
  const height = top + plotH + 110;
  const maxValue = Math.max(1e-9, ...series.flatMap((s) => metrics.map((m) => s.values[m.key]?.max ?? 0)));
  const y = (v: number) => top + plotH - (v / maxValue) * plotH;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`);
  out.push(`<rect width="100%" height="100%" fill="white"/>`);
  out.push(`<text x="${left}" y="20" font-size="14" font-weight="bold">${escape(title)}</text>`);
  for (let i = 0; i <= 4; i++) {
    const v = (maxValue * i) / 4;
    out.push(`<line x1="${left}" x2="${width - 10}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`);
    out.push(`<text x="${left - 6}" y="${y(v) + 4}" text-anchor="end">${v.toFixed(v < 10 ? 1 : 0)}</text>`);
  }
  out.push(`<text x="14" y="${top + plotH / 2}" transform="rotate(-90 14 ${top + plotH / 2})" text-anchor="middle">${escape(unit)} (median, min-max)</text>`);
  metrics.forEach((m, gi) => {
    const gx = left + gi * groupW + gap / 2;
    series.forEach((s, si) => {
      const v = s.values[m.key];
      const x = gx + si * barW;
      if (!v) {
        out.push(`<text x="${x + barW / 2}" y="${top + plotH - 4}" text-anchor="middle" fill="#999">n/a</text>`);
        return;
      }
      out.push(`<rect x="${x}" y="${y(v.median)}" width="${barW - 2}" height="${top + plotH - y(v.median)}" fill="${COLORS[si % COLORS.length]}"><title>${escape(`${s.name} ${m.label}: ${v.median.toFixed(2)} ${unit}`)}</title></rect>`);
      const cx = x + (barW - 2) / 2;
      out.push(`<line x1="${cx}" x2="${cx}" y1="${y(v.max)}" y2="${y(v.min)}" stroke="black"/>`);
    });
    const lx = gx + (series.length * barW) / 2;
    out.push(`<text x="${lx}" y="${top + plotH + 14}" text-anchor="end" transform="rotate(-35 ${lx} ${top + plotH + 14})">${escape(m.label)}</text>`);
  });
  series.forEach((s, si) => {
    const lx = left + si * 110;
    out.push(`<rect x="${lx}" y="${height - 18}" width="10" height="10" fill="${COLORS[si % COLORS.length]}"/>`);
    out.push(`<text x="${lx + 14}" y="${height - 9}">${escape(s.name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/** Several charts stacked in one SVG document. */
export function stack(charts: string[]): string {
  let offset = 0;
  let width = 0;
  const parts: string[] = [];
  for (const chart of charts) {
    const w = Number(/width="(\d+(?:\.\d+)?)"/.exec(chart)![1]);
    const h = Number(/height="(\d+(?:\.\d+)?)"/.exec(chart)![1]);
    parts.push(`<g transform="translate(0 ${offset})">${chart.replace(/^<svg[^>]*>/, '').replace(/<\/svg>\s*$/, '')}</g>`);
    offset += h;
    width = Math.max(width, w);
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${offset}" font-family="sans-serif" font-size="11">\n${parts.join('\n')}\n</svg>\n`;
}
