/**
 * The benchmark's output: the shape of `bench/results/latest.json`, the table printed at the
 * end of a run, and the SVG chart drawn from the JSON (plain string building, no dependency).
 */
import type { ClientResult } from './client';
import { HEAP_PER_SOCKET_BYTES, LATENESS_P99_MS } from './targets';

/** Median and spread of one figure over the rounds. */
export interface Stat {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly n: number;
}

/** One line of the table: a figure for plain Node (A) and the patched or compared side (B). */
export interface Row {
  readonly workload: string;
  readonly title: string;
  readonly metric: string;
  readonly plain: Stat | null;
  readonly patched: Stat | null;
  /** B / A of the medians, for throughput rows. */
  readonly ratio?: number;
  /** B - A of the medians, for memory rows. */
  readonly extra?: number;
  target: string;
  status: 'met' | 'within noise' | 'missed' | 'pending' | 'info';
  note?: string;
  /** Work per wall-clock second, for reference (the machine is shared by client and server). */
  readonly wall?: { plain: Stat | null; patched: Stat | null };
  /** B / A within each round. */
  readonly pairedRatios?: number[];
  /** The variant ids compared, A then B (`['plain', 'patched']` for the shim's own cost). */
  readonly sides?: readonly [string, string];
}

/** Everything `latest.json` holds. */
export interface Report {
  readonly schema: 1;
  readonly mode: 'quick' | 'full';
  readonly date: string;
  readonly node: string;
  readonly timeoutsocket: string;
  readonly armed: string;
  readonly machine: { cpu: string; cores: number; memoryGiB: number; platform: string; fdLimit: number };
  readonly seconds: number;
  readonly noiseBand: number;
  /** The targets the rows were judged against (bench/targets.ts). */
  readonly targets?: Record<string, unknown>;
  readonly plan: unknown;
  readonly notes: string[];
  readonly rows: Row[];
  readonly workloads: Record<string, { seconds: number; runs: Record<string, ClientResult[]> }>;
}

function num(value: number): string {
  if (!Number.isFinite(value)) return '–';
  const abs = Math.abs(value);
  if (abs >= 10_000) return Math.round(value).toLocaleString('en-US');
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

function cell(s: Stat | null): string {
  if (s === null) return '–';
  return s.n > 1 ? `${num(s.median)} (${num(s.min)}–${num(s.max)})` : num(s.median);
}

function comparison(row: Row): string {
  if (row.ratio !== undefined) return Number.isFinite(row.ratio) ? row.ratio.toFixed(3) : '–';
  // Extra memory is in bytes; the start-up row's extra (startup.ts) is in ms.
  const unit = row.metric.startsWith('ms') ? 'ms' : 'B';
  if (row.extra !== undefined) return Number.isFinite(row.extra) ? `${row.extra >= 0 ? '+' : ''}${num(row.extra)} ${unit}` : '–';
  return '';
}

const STATUS: Record<Row['status'], string> = {
  met: 'met',
  'within noise': 'within noise',
  missed: 'MISSED',
  pending: 'pending',
  info: '',
};

/** The results as a Markdown table (readable in a terminal too), with the run's context. */
export function renderTable(report: Report): string {
  const head = ['Workload', 'Metric', 'A: plain Node', 'B: timeoutsocket', 'B / A', 'Target', 'Result'];
  const lines = report.rows.map((row) => [
    row.title,
    row.metric,
    cell(row.plain),
    cell(row.patched),
    comparison(row),
    row.target === 'info' ? '' : row.target,
    [STATUS[row.status], row.note].filter(Boolean).join('; '),
  ]);
  const table = [head, head.map(() => '---'), ...lines].map((cols) => `| ${cols.join(' | ')} |`).join('\n');
  const m = report.machine;
  const context = [
    `${report.mode} run, ${report.date.slice(0, 10)}, Node ${report.node}, timeoutsocket ${report.timeoutsocket}, ${m.cores} x ${m.cpu}, ${m.platform}`,
    `B runs with ${report.armed}; medians over rounds (min–max), A/B order alternating; awaitable rows: A = event-style code on plain Node (promise-socket where the row says so); report mode rows: A = enforce mode, B = report mode, both armed; accuracy rows: A = a bare setTimeout under the same load.`,
    'Outside check: bash bench/ab.sh <pairs> <workload> runs the same client as whole processes and says whether its ratio agrees with this run (bench/README.md, "The outside A/B").',
    ...report.notes,
  ];
  return `${table}\n\n${context.join('\n')}`;
}

// ---------------------------------------------------------------------------------------------
// The chart.
// ---------------------------------------------------------------------------------------------

const WIDTH = 860;
const LABEL_W = 340;
const PLOT_W = WIDTH - LABEL_W - 40;
const ROW_H = 26;
const FONT = 'font-family="system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif"';

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function text(x: number, y: number, body: string, attrs = ''): string {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${attrs}>${esc(body)}</text>`;
}

function targetOf(row: Row): number | null {
  const match = /(\d+(?:\.\d+)?)/.exec(row.target);
  return match ? Number(match[1]) : null;
}

const COLOURS: Record<Row['status'], string> = {
  met: '#2f855a',
  'within noise': '#b7791f',
  missed: '#c53030',
  pending: '#a0aec0',
  info: '#4a5568',
};

/** Throughput ratios on a 0.80–1.10 axis (wider when a target is above it): median dot, round-by-round spread as a whisker, target tick. */
function ratioPanel(rows: readonly Row[], top: number): { svg: string[]; height: number } {
  const lo = 0.8;
  // Awaitable over promise-socket has its target at 1.3: the axis reaches past the highest target.
  const hi = Math.max(1.1, ...rows.map((row) => Math.ceil(((targetOf(row) ?? 0) + 0.05) * 20) / 20));
  const x = (v: number) => LABEL_W + ((Math.min(hi, Math.max(lo, v)) - lo) / (hi - lo)) * PLOT_W;
  const out: string[] = [text(12, top + 16, 'Work per client CPU-second, B / A (1.00 = no cost)', 'font-weight="600"')];
  const y0 = top + 30;
  const bottom = y0 + rows.length * ROW_H;
  for (let v = lo; v <= hi + 1e-9; v += 0.05) {
    out.push(`<line x1="${x(v)}" y1="${y0}" x2="${x(v)}" y2="${bottom}" stroke="#e2e8f0"/>`);
    out.push(text(x(v), bottom + 14, v.toFixed(2), 'text-anchor="middle" font-size="11" fill="#4a5568"'));
  }
  out.push(`<line x1="${x(1)}" y1="${y0}" x2="${x(1)}" y2="${bottom}" stroke="#4a5568"/>`);
  rows.forEach((row, i) => {
    const cy = y0 + i * ROW_H + ROW_H / 2;
    out.push(text(12, cy + 4, row.title, 'font-size="12"'));
    const target = targetOf(row);
    if (target !== null && target > 0) {
      out.push(`<line x1="${x(target)}" y1="${cy - 8}" x2="${x(target)}" y2="${cy + 8}" stroke="#c53030" stroke-width="2"/>`);
    }
    const ratio = row.ratio ?? NaN;
    if (!Number.isFinite(ratio)) {
      out.push(text(x(1) + 6, cy + 4, row.note ?? 'pending', 'font-size="11" fill="#718096"'));
      return;
    }
    const paired = (row.pairedRatios ?? []).filter(Number.isFinite);
    if (paired.length > 1) {
      out.push(
        `<line x1="${x(Math.min(...paired))}" y1="${cy}" x2="${x(Math.max(...paired))}" y2="${cy}" stroke="${COLOURS[row.status]}" stroke-width="2" opacity="0.5"/>`,
      );
    }
    out.push(`<circle cx="${x(ratio)}" cy="${cy}" r="5" fill="${COLOURS[row.status]}"/>`);
    const clipped = ratio < lo || ratio > hi ? ' (off scale)' : '';
    out.push(text(x(ratio) + 9, cy - 6, `${ratio.toFixed(3)}${clipped}`, 'font-size="11" fill="#2d3748"'));
  });
  return { svg: out, height: bottom + 24 - top };
}

/** Figures against a budget (extra heap per socket, timeout lateness): bar length = value / budget. */
function budgetPanel(title: string, items: readonly { label: string; value: number; budget: number | null; unit: string; colour: string }[], top: number): { svg: string[]; height: number } {
  const out: string[] = [text(12, top + 16, title, 'font-weight="600"')];
  const maxValue = Math.max(...items.map((it) => Math.max(Number.isFinite(it.value) ? it.value : 0, it.budget ?? 0)), 1);
  const x = (v: number) => LABEL_W + (Math.max(0, v) / maxValue) * PLOT_W * 0.9;
  const y0 = top + 30;
  items.forEach((it, i) => {
    const cy = y0 + i * ROW_H + ROW_H / 2;
    out.push(text(12, cy + 4, it.label, 'font-size="12"'));
    if (!Number.isFinite(it.value)) {
      out.push(text(LABEL_W + 6, cy + 4, 'pending', 'font-size="11" fill="#718096"'));
      return;
    }
    out.push(`<rect x="${LABEL_W}" y="${cy - 7}" width="${(x(it.value) - LABEL_W).toFixed(1)}" height="14" fill="${it.colour}"/>`);
    if (it.budget !== null) {
      out.push(`<line x1="${x(it.budget)}" y1="${cy - 10}" x2="${x(it.budget)}" y2="${cy + 10}" stroke="#c53030" stroke-width="2"/>`);
    }
    out.push(text(x(it.value) + 6, cy + 4, `${num(it.value)} ${it.unit}`, 'font-size="11" fill="#2d3748"'));
  });
  return { svg: out, height: items.length * ROW_H + 40 };
}

/** Draws `latest.json` as a self-contained SVG. */
export function renderSvg(report: Report): string {
  const parts: string[] = [];
  let top = 36;
  const ratios = report.rows.filter((r) => r.ratio !== undefined);
  const ratio = ratioPanel(ratios, top);
  parts.push(...ratio.svg);
  top += ratio.height + 10;

  const memory = report.rows.filter((r) => r.workload === 'memory' && r.extra !== undefined);
  const mem = budgetPanel(
    `Extra memory per idle socket, B − A (red tick: ${HEAP_PER_SOCKET_BYTES} B budget for heap)`,
    memory.map((r) => ({
      label: r.title,
      value: r.extra ?? NaN,
      budget: targetOf(r),
      unit: 'B',
      colour: COLOURS[r.status],
    })),
    top,
  );
  parts.push(...mem.svg);
  top += mem.height + 10;

  const accuracy = report.rows.filter((r) => r.workload === 'accuracy');
  const late = budgetPanel(
    `Timeout lateness under load, ms (grey: bare setTimeout; red tick: ${LATENESS_P99_MS} ms p99 budget)`,
    accuracy.flatMap((r) => {
      const key = /lateness (\w+)/.exec(r.title)?.[1] ?? '';
      return [
        { label: `bare setTimeout ${key}`, value: r.plain?.median ?? NaN, budget: null, unit: 'ms', colour: '#a0aec0' },
        { label: `reply deadline ${key}`, value: r.patched?.median ?? NaN, budget: key === 'p99' ? LATENESS_P99_MS : null, unit: 'ms', colour: COLOURS[r.status === 'info' ? 'info' : r.status] },
      ];
    }),
    top,
  );
  parts.push(...late.svg);
  top += late.height;

  const m = report.machine;
  const caption = `${report.mode} run ${report.date.slice(0, 10)} · Node ${report.node} · ${m.cores} × ${m.cpu} · B: ${report.armed}`;
  const height = top + 24;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" ${FONT} font-size="13" fill="#1a202c">`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    text(12, 22, 'timeoutsocket: cost next to plain Node (same machine, same run)', 'font-size="15" font-weight="700"'),
    ...parts,
    text(12, height - 10, caption, 'font-size="10" fill="#718096"'),
    '</svg>',
    '',
  ].join('\n');
}
