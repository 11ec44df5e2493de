/**
 * Reads an HTTP body with a size cap, for inbox requests and fetched
 * documents alike: a body that declares or turns out to be larger is
 * abandoned at the first byte over the limit.
 */

/** At most `limit` bytes of a request's or response's body; undefined when it is larger. */
export async function readLimited(message: Request | Response, limit: number): Promise<Uint8Array | undefined> {
  const declared = Number(message.headers.get("content-length") ?? "0");
  if (declared > limit) {
    await message.body?.cancel();
    return undefined;
  }
  if (!message.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = message.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}
