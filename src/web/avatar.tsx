/**
 * Avatars for people and communities: an identicon drawn from the actor's
 * IRI, so the same actor looks the same on every page and every instance
 * that uses Fedalign, and no picture is fetched from another server (a
 * remote image would tell that server who is reading which page).
 * Decorative: the name is always written beside it, so it is aria-hidden.
 */
import { createHash } from "node:crypto";

/** Which of the 5×5 cells are filled (mirrored left to right) and the hue, from the seed's SHA-256. */
export function identicon(seed: string): { hue: number; cells: [number, number][] } {
  const hash = createHash("sha256").update(seed).digest();
  const hue = ((hash[0]! << 8) | hash[1]!) % 360;
  const cells: [number, number][] = [];
  for (let row = 0; row < 5; row++) {
    for (let col = 0; col < 3; col++) {
      const bit = row * 3 + col;
      if ((hash[2 + (bit >> 3)]! >> (bit & 7)) & 1) {
        cells.push([col, row]);
        if (col < 2) cells.push([4 - col, row]);
      }
    }
  }
  return { hue, cells };
}

export function Avatar(props: { seed: string; kind?: "person" | "community"; large?: boolean }) {
  const { hue, cells } = identicon(props.seed);
  const classes = ["avatar", props.large ? "avatar-large" : "", props.kind === "person" ? "avatar-round" : ""].filter(Boolean).join(" ");
  return (
    <svg class={classes} viewBox="-1 -1 7 7" aria-hidden="true" focusable="false" shape-rendering="crispEdges">
      <rect x="-1" y="-1" width="7" height="7" fill={`hsl(${hue} 55% 92%)`} />
      {cells.map(([x, y]) => (
        <rect x={String(x)} y={String(y)} width="1" height="1" fill={`hsl(${hue} 55% 36%)`} />
      ))}
    </svg>
  );
}
