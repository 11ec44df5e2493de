/**
 * Server-rendered SVG charts (no client script). A chart is an image with a
 * title and a description for assistive technology, and every chart comes
 * with the same numbers in a table beside it, so nothing is only visual.
 * Colours come from the stylesheet's group palette (--g0..--g4) through
 * classes, since the CSP allows no style attributes.
 */
import type { Child } from "hono/jsx";

export interface ChartSeries {
  /** Shown in the legend and the table's column headings, e.g. "Response A". */
  label: string;
}

export interface ChartBar {
  /** null: no data (drawn as "no data", never as 0). */
  value: number | null;
  /** Interval around the value (e.g. a Wilson 95% interval), drawn as an error bar. */
  low?: number | null;
  high?: number | null;
}

export interface ChartRow {
  /** The category, e.g. "All raters" or a group's label. */
  label: string;
  /** Small print after the label, e.g. "12 raters". */
  note?: string;
  /** One bar per series, in series order. */
  bars: ChartBar[];
}

export interface BarChartProps {
  /** Unique on the page; used for the title/desc ids. */
  id: string;
  title: string;
  /** One or two sentences saying what is plotted and how to read it. */
  description: string;
  series: ChartSeries[];
  rows: ChartRow[];
  /** The scale's top (the bottom is 0); 1 for shares. */
  max?: number;
  /** How values are written (axis, labels, table). */
  format?: (value: number) => string;
  /** Heading of the table's first column. */
  rowHeading?: string;
  /** A line drawn across the plot at this value (e.g. 0.5: an even split). */
  reference?: number;
}

export const percent = (value: number) => `${(value * 100).toFixed(value > 0 && value < 0.1 ? 1 : 0)}%`;

const WIDTH = 480;
const PAD_X = 8;
const VALUE_LABEL = 84;
const PLOT_W = WIDTH - PAD_X * 2 - VALUE_LABEL;
const BAR_H = 16;
const BAR_GAP = 4;
const LABEL_H = 20;
const ROW_GAP = 12;
const AXIS_H = 22;
const LEGEND_H = 24;

/** A horizontal (grouped, when there are several series) bar chart with error bars, and its table. */
export function BarChart(props: BarChartProps) {
  const max = props.max ?? 1;
  const format = props.format ?? percent;
  const x = (value: number) => PAD_X + (Math.min(Math.max(value, 0), max) / max) * PLOT_W;
  const rowHeight = LABEL_H + props.series.length * (BAR_H + BAR_GAP) + ROW_GAP;
  const legendLines = Math.ceil(props.series.length / 3);
  const top = legendLines * LEGEND_H + 4;
  const height = top + props.rows.length * rowHeight + AXIS_H;
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((t) => t * max);
  const titleId = `${props.id}-title`;
  const descId = `${props.id}-desc`;
  const tableId = `${props.id}-table`;
  return (
    <figure class="chart-figure" id={props.id}>
      <svg
        class="chart bar-chart"
        viewBox={`0 0 ${WIDTH} ${height}`}
        width={WIDTH}
        height={height}
        role="img"
        aria-labelledby={titleId}
        aria-describedby={descId}
        data-plot-x={PAD_X}
        data-plot-width={PLOT_W}
        data-max={max}
      >
        <title id={titleId}>{props.title}</title>
        <desc id={descId}>{`${props.description} The table below gives the same numbers.`}</desc>
        <g class="legend" aria-hidden="true">
          {props.series.map((series, i) => (
            <g>
              <rect class={`swatch series-${i % 5}`} x={PAD_X + (i % 3) * 150} y={4 + Math.floor(i / 3) * LEGEND_H} width={12} height={12} />
              <text x={PAD_X + (i % 3) * 150 + 17} y={14 + Math.floor(i / 3) * LEGEND_H}>
                {series.label}
              </text>
            </g>
          ))}
        </g>
        <g class="grid" aria-hidden="true">
          {ticks.map((tick) => (
            <>
              <line class="gridline" x1={x(tick)} x2={x(tick)} y1={top} y2={height - AXIS_H + 2} />
              <text class="tick" x={x(tick)} y={height - 6} text-anchor={tick === 0 ? "start" : "middle"}>
                {format(tick)}
              </text>
            </>
          ))}
          {props.reference === undefined ? null : (
            <line class="reference" x1={x(props.reference)} x2={x(props.reference)} y1={top} y2={height - AXIS_H + 2} />
          )}
        </g>
        {props.rows.map((row, r) => {
          const y0 = top + r * rowHeight;
          return (
            <g class="row" data-row={row.label}>
              <text class="row-label" x={PAD_X} y={y0 + 14}>
                {row.label}
                {row.note ? <tspan class="row-note">{`  ${row.note}`}</tspan> : null}
              </text>
              {row.bars.map((bar, s) => {
                const y = y0 + LABEL_H + s * (BAR_H + BAR_GAP);
                const label = props.series[s]?.label ?? `Series ${s + 1}`;
                if (bar.value === null) {
                  return (
                    <text class="no-data" x={PAD_X} y={y + 12} data-series={s} data-row={row.label}>
                      {`${label}: no data`}
                    </text>
                  );
                }
                const hasInterval = bar.low !== undefined && bar.low !== null && bar.high !== undefined && bar.high !== null;
                const valueText = format(bar.value) + (hasInterval ? ` (${format(bar.low!)}–${format(bar.high!)})` : "");
                return (
                  <g class="bar-group">
                    <rect
                      class={`bar series-${s % 5}`}
                      x={PAD_X}
                      y={y}
                      width={Math.max(x(bar.value) - PAD_X, 0)}
                      height={BAR_H}
                      data-series={s}
                      data-row={row.label}
                      data-value={bar.value}
                    >
                      <title>{`${row.label}, ${label}: ${valueText}`}</title>
                    </rect>
                    {hasInterval ? (
                      <g class="error-bar" data-low={bar.low!} data-high={bar.high!}>
                        <line x1={x(bar.low!)} x2={x(bar.high!)} y1={y + BAR_H / 2} y2={y + BAR_H / 2} />
                        <line x1={x(bar.low!)} x2={x(bar.low!)} y1={y + 3} y2={y + BAR_H - 3} />
                        <line x1={x(bar.high!)} x2={x(bar.high!)} y1={y + 3} y2={y + BAR_H - 3} />
                      </g>
                    ) : null}
                    <text class="value" x={PAD_X + PLOT_W + 6} y={y + 12}>
                      {format(bar.value)}
                    </text>
                  </g>
                );
              })}
            </g>
          );
        })}
      </svg>
      <figcaption>
        <ChartTable {...props} tableId={tableId} format={format} />
      </figcaption>
    </figure>
  );
}

function ChartTable(props: BarChartProps & { tableId: string; format: (value: number) => string }) {
  const cell = (bar: ChartBar | undefined): Child => {
    if (!bar || bar.value === null) return "no data";
    const interval = bar.low !== undefined && bar.low !== null && bar.high !== undefined && bar.high !== null ? ` (${props.format(bar.low)} to ${props.format(bar.high)})` : "";
    return `${props.format(bar.value)}${interval}`;
  };
  return (
    <div class="table-wrap">
      <table id={props.tableId} class="chart-table">
        <caption>{props.title}</caption>
        <thead>
          <tr>
            <th scope="col">{props.rowHeading ?? "Group"}</th>
            {props.series.map((series) => (
              <th scope="col">{series.label}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {props.rows.map((row) => (
            <tr>
              <th scope="row">
                {row.label}
                {row.note ? <span class="muted"> ({row.note})</span> : null}
              </th>
              {props.series.map((_, s) => (
                <td>{cell(row.bars[s])}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
