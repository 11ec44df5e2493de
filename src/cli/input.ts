/** Reading secrets from standard input (`--password-stdin`). */
export async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) {
    process.stderr.write("Type the password, then press Enter and Ctrl-D:\n");
  }
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  // Only the final line break is not part of the password.
  return Buffer.concat(chunks).toString("utf8").replace(/\r?\n$/, "");
}
