/**
 * The part of a WebSocket the SDK uses: the browser's native one and the `ws`
 * package (Node) both have it, so neither is imported by the shared code.
 */
export interface SocketLike {
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  onclose: ((event: { code: number }) => void) | null;
}

/** A WebSocket constructor that takes only a URL (the browser's, or one passed as `WebSocket`). */
export type WebSocketConstructor = new (url: string) => unknown;

/** Opens one connection; `hello` when the token must go in a hello frame (no header was possible). */
export type OpenSocket = (url: string, token: string) => { socket: SocketLike; hello: boolean };

/** A connection that cannot carry headers: the token goes in the hello frame (docs/protocol.md). */
export function helloSocket(WebSocket: WebSocketConstructor): OpenSocket {
  return (url) => ({ socket: new WebSocket(url) as SocketLike, hello: true });
}

/** The failure cause in a WebSocket error event: Node's ws tells it (ECONNREFUSED, an HTTP status), browsers do not. */
export function causeOf(event: unknown): string {
  const error = (event as { error?: { code?: unknown; message?: unknown } }).error;
  if (typeof error?.code === 'string') return error.code;
  const status = typeof error?.message === 'string' ? /Unexpected server response: (\d+)/.exec(error.message) : null;
  return status ? `http_${status[1]}` : 'connect_error';
}

/** A device endpoint must be ws:// or wss://; anything else is the caller's mistake, thrown at once. */
export function checkDeviceUrl(url: string): void {
  const protocol = new URL(url).protocol;
  if (protocol !== 'wss:' && protocol !== 'ws:') throw new TypeError(`url must be ws:// or wss://, not ${protocol}`);
}
