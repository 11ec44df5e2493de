/**
 * The opinion-group map: participants placed on the first two principal
 * components of their votes, coloured (and lettered, in the legend and in
 * each point's title) by opinion group. Server-rendered SVG, no script.
 */

export interface MapPoint {
  participant: string;
  x: number;
  y: number;
  group: number;
}

export const GROUP_COLOURS = 5;

export function groupName(id: number): string {
  return `Group ${String.fromCharCode(65 + (id % 26))}`;
}

export function OpinionMap(props: { points: MapPoint[]; groups: { id: number; size: number }[]; title?: string }) {
  const width = 640;
  const height = 420;
  const pad = 28;
  const xs = props.points.map((p) => p.x);
  const ys = props.points.map((p) => p.y);
  const span = (values: number[]) => {
    const min = Math.min(0, ...values);
    const max = Math.max(0, ...values);
    return max - min < 1e-9 ? { min: min - 1, max: max + 1 } : { min, max };
  };
  const sx = span(xs);
  const sy = span(ys);
  const px = (x: number) => pad + ((x - sx.min) / (sx.max - sx.min)) * (width - 2 * pad);
  // SVG's y grows downwards; flip so the second component points up.
  const py = (y: number) => height - pad - ((y - sy.min) / (sy.max - sy.min)) * (height - 2 * pad);
  const title = props.title ?? "Opinion groups";
  const sizes = props.groups.map((g) => `${groupName(g.id)}: ${g.size}`).join(", ");
  return (
    <figure class="opinion-map">
      <svg
        class="chart opinion-map-svg"
        viewBox={`0 0 ${width} ${height}`}
        role="img"
        aria-labelledby="opinion-map-title opinion-map-desc"
        xmlns="http://www.w3.org/2000/svg"
      >
        <title id="opinion-map-title">{title}</title>
        <desc id="opinion-map-desc">
          {`${props.points.length} participants placed by how they voted (first two principal components); participants who vote alike are close together. ${sizes}.`}
        </desc>
        <rect class="opinion-map-frame" x="0.5" y="0.5" width={width - 1} height={height - 1} />
        <line class="opinion-map-axis" x1={pad} x2={width - pad} y1={py(0)} y2={py(0)} />
        <line class="opinion-map-axis" x1={px(0)} x2={px(0)} y1={pad} y2={height - pad} />
        <text x={width - pad} y={py(0) - 6} text-anchor="end">
          first component
        </text>
        <text x={px(0) + 6} y={pad - 10}>
          second component
        </text>
        <g class="opinion-map-points">
          {props.points.map((p) => (
            <circle class={`opinion-point op-g${p.group % GROUP_COLOURS}`} cx={px(p.x).toFixed(1)} cy={py(p.y).toFixed(1)} r="6" data-group={p.group}>
              <title>{`${groupName(p.group)}: participant ${p.participant}`}</title>
            </circle>
          ))}
        </g>
      </svg>
      <figcaption>
        <ul class="opinion-legend" aria-label="Legend">
          {props.groups.map((g) => (
            <li>
              <svg class="opinion-swatch" viewBox="0 0 12 12" aria-hidden="true" focusable="false">
                <circle class={`op-g${g.id % GROUP_COLOURS}`} cx="6" cy="6" r="5" />
              </svg>
              {groupName(g.id)}: {g.size} participant{g.size === 1 ? "" : "s"}
            </li>
          ))}
        </ul>
      </figcaption>
    </figure>
  );
}
