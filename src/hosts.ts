/**
 * Host names as this instance compares them (blocks, WebFinger answers).
 */
import { domainToASCII } from "node:url";

const DEFAULT_PORTS = new Set(["80", "443"]);

/**
 * The canonical form of a host as blocks and origin checks compare it:
 * lower case, no trailing dot, IDN in punycode, default port dropped.
 * Accepts a bare host (`Example.ORG.`, `example.org:443`) or a URL.
 * Undefined when it is not a host.
 */
export function canonicalHost(input: string): string | undefined {
  const trimmed = input.trim();
  let hostname: string;
  let port: string;
  try {
    const url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `http://${trimmed}`);
    if (url.pathname !== "/" || url.search || url.hash || url.username) {
      if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) return undefined;
    }
    hostname = url.hostname;
    port = url.port;
  } catch {
    return undefined;
  }
  const ascii = hostname.startsWith("[") ? hostname : domainToASCII(hostname.replace(/\.+$/, ""));
  if (!ascii) return undefined;
  return port && !DEFAULT_PORTS.has(port) ? `${ascii}:${port}` : ascii;
}
