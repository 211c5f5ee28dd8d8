// Who may talk to the server. A model served on localhost without a key must not be drivable by
// the web pages the user happens to visit, so every request passes three checks before routing:
//   - Host: the name the client used must be this machine (loopback, the bound address; bound to
//     every interface, its host name or an interface address) or a name given with --allowed-host. A DNS-rebinding page reaches us
//     under its own name (Host: evil.example:8998) and gets 403.
//   - Origin: a browser request from another origin gets 403 unless --cors lists that origin; only
//     then does the response carry CORS headers (none by default), and only then is a preflight
//     answered. Clients that are not browsers send no Origin and are not affected.
//   - the API key (--api-key, --api-key-file, MINIMIND_API_KEY) on /v1 routes, compared in
//     constant time.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import { hostname, networkInterfaces } from 'node:os';
import { errors } from './errors.js';

export interface AccessOptions {
  /** Require `Authorization: Bearer <apiKey>` on /v1 routes. */
  apiKey?: string;
  /** Origins (scheme://host[:port], or '*' for any) whose browser pages may call the API. */
  cors?: string[];
  /** Host names besides loopback and this machine's addresses that clients may use (a reverse proxy's name). */
  allowedHosts?: string[];
}

const LOOPBACK = ['localhost', '127.0.0.1', '::1'];
const WILDCARD = ['0.0.0.0', '::', ''];

export class Access {
  private readonly cors: Set<string>;
  private readonly names: Set<string>;
  private readonly keyDigest: Buffer | undefined;

  constructor(
    opts: AccessOptions,
    private readonly bound: { host: string; port: number },
  ) {
    this.cors = new Set(opts.cors ?? []);
    this.names = new Set((opts.allowedHosts ?? []).map((h) => h.toLowerCase()));
    this.keyDigest = opts.apiKey === undefined ? undefined : digest(opts.apiKey);
  }

  /**
   * Host and Origin checks; sets the CORS headers of an allowed cross-origin request. Returns true
   * when the request was a preflight and has been answered.
   */
  admit(req: IncomingMessage, res: ServerResponse): boolean {
    const host = req.headers.host ?? '';
    if (!this.hostAllowed(host)) throw errors.forbiddenHost(host);
    const origin = req.headers.origin;
    const preflight = req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined;
    // No Origin: not a browser (an OPTIONS then gets 405). Our own page: its origin is the Host it
    // was loaded from, or an --allowed-host name (a proxy may serve it over https, or rewrite Host).
    if (origin === undefined || this.sameSite(origin, host)) return false;
    if (!this.cors.has(origin) && !this.cors.has('*')) throw errors.forbiddenOrigin(origin);
    res.setHeader('Access-Control-Allow-Origin', this.cors.has('*') ? '*' : origin);
    res.setHeader('Vary', 'Origin');
    if (!preflight) return false;
    res.writeHead(204, { 'Access-Control-Allow-Methods': 'GET, POST, OPTIONS', 'Access-Control-Allow-Headers': 'Authorization, Content-Type', 'Access-Control-Max-Age': '600' });
    res.end();
    return true;
  }

  /** The API key check of /v1 routes: SHA-256 digests compared in constant time (no length leak). */
  checkKey(req: IncomingMessage): void {
    if (this.keyDigest === undefined) return;
    const auth = req.headers.authorization;
    if (!auth) throw errors.missingKey();
    const m = /^Bearer\s+(.+)$/i.exec(auth.trim());
    if (!timingSafeEqual(digest(m ? m[1] : ''), this.keyDigest)) throw errors.wrongKey();
  }

  private sameSite(origin: string, host: string): boolean {
    if (origin === `http://${host}` || origin === `https://${host}`) return true;
    try {
      return this.names.has(new URL(origin).hostname.toLowerCase());
    } catch {
      return false; // "null" (a sandboxed frame, a file:// page) and other non-URLs
    }
  }

  // Host: name[:port] or [v6][:port]. Loopback and this machine's addresses must come with our port
  // (or none on port 80); --allowed-host names with any port (a proxy forwards its own).
  private hostAllowed(header: string): boolean {
    const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+))(?::(\d+))?$/.exec(header);
    if (!m) return false;
    const name = (m[1] ?? m[2]).toLowerCase().replace(/\.$/, '');
    if (this.names.has(name)) return true;
    const port = m[3] === undefined ? 80 : Number(m[3]);
    if (port !== this.bound.port) return false;
    if (LOOPBACK.includes(name) || name === this.bound.host.toLowerCase()) return true;
    // Bound to every interface: this machine's name, or any of its addresses as an IP literal (a
    // rebinding page reaches us under its own name, never under these).
    if (!WILDCARD.includes(this.bound.host)) return false;
    return name === hostname().toLowerCase() || (isIP(name) !== 0 && machineAddresses().has(name));
  }
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

function machineAddresses(): Set<string> {
  const out = new Set<string>();
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) out.add(a.address.toLowerCase().replace(/%.*$/, ''));
  return out;
}
