import type { DeviceError } from './device-error.js';

export interface DeviceOptions {
  /** The gateway's device endpoint, e.g. wss://gateway.example:8443/v1/device. */
  url: string;
  /** The device's token (wmg_...) or JWT. */
  token: string;
  /** Reconnect backoff: full jitter in [0, min(maxMs, minMs * 2^attempt)). */
  reconnect?: { minMs?: number; maxMs?: number };
  /** Unacked messages kept (max, default 1000) and written per second at most (sendPerSec, default 50). */
  outbox?: { max?: number; sendPerSec?: number };
}

export interface Welcome {
  device: string;
  model: string;
  heartbeatMs: number;
  maxFrameBytes: number;
}

export interface Desired {
  version: number;
  state: Record<string, unknown>;
  delta: Record<string, unknown>;
}

export type MessageKind = 'telemetry' | 'state';

export interface OfflineInfo {
  /** The WebSocket close code (1006 when the connection failed or dropped). */
  code: number;
  /** The error code the close stands for (unauthorized, replaced, shutting_down...), if any. */
  reason?: string;
  /** Why a connection attempt failed before the welcome (ECONNREFUSED, http_503...), where the platform says. */
  cause?: string;
  /** Whether this connection had got its welcome. */
  welcomed: boolean;
  /** When the next attempt starts; absent when the device stopped for good. */
  reconnectInMs?: number;
}

export interface DeviceEvents {
  welcome: (welcome: Welcome) => void;
  online: (welcome: Welcome) => void;
  offline: (info: OfflineInfo) => void;
  error: (error: DeviceError) => void;
  /** A message was written to the socket; `resend` when an earlier write of it went unacked. */
  sent: (info: { id: string; kind: MessageKind; resend: boolean }) => void;
  acked: (info: { id: string; kind: MessageKind; latencyMs: number }) => void;
  /** Any error frame, retried ones (rate_limited) included. */
  refused: (info: { id?: string; code: string }) => void;
}

/** An outbox entry's promise, settled by the ack or the refusal (internal). */
export interface Sending {
  kind: MessageKind;
  resolve(): void;
  reject(error: DeviceError): void;
}

/** Where a DeviceClient is in its life (internal). */
export type Phase = 'connecting' | 'online' | 'closing' | 'offline' | 'stopped';
