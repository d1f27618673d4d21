// Kubernetes' channel protocols over WebSocket (k8s.io/apimachinery wsstream), as kubelet's
// streaming server speaks them: each message's first byte (or, in the base64 forms, first
// character) names a channel; the rest is that channel's data. Exec and attach use channels 0-4
// (stdin, stdout, stderr, error, resize); port forwarding two a port (data, error), each opened
// with the port as two little-endian bytes. v4 writes a Status object on the error channel; v5
// adds channel 255, on which the client closes one of its channels (its stdin's end).

export const STDIN = 0;
export const STDOUT = 1;
export const STDERR = 2;
export const ERROR = 3;
export const RESIZE = 4;
/** v5: a message on this channel whose one byte names the channel the client has closed. */
export const CLOSE = 255;

export interface ChannelProtocol {
  /** As negotiated: '' when the client offered none (kubelet's answer to that too). */
  name: string;
  /** Frames carry base64 text (the `base64.` forms), else binary. */
  base64: boolean;
  /** The error channel carries a metav1.Status in JSON (v4 and later), else the error's text. */
  status: boolean;
  /** The client may close its stdin with a CLOSE message (v5). */
  closeSignal: boolean;
}

const p = (name: string, base64: boolean, status: boolean, closeSignal: boolean): ChannelProtocol => ({
  name,
  base64,
  status,
  closeSignal,
});

/** Exec and attach's protocols, as kubelet's remotecommand serves them over WebSocket. */
export const EXEC_PROTOCOLS: ChannelProtocol[] = [
  p('v5.channel.k8s.io', false, true, true),
  p('v4.channel.k8s.io', false, true, false),
  p('v4.base64.channel.k8s.io', true, true, false),
  p('channel.k8s.io', false, false, false),
  p('base64.channel.k8s.io', true, false, false),
];

/** Port forwarding's, as kubelet's portforward serves them over WebSocket. */
export const PORT_FORWARD_PROTOCOLS: ChannelProtocol[] = [
  p('v4.channel.k8s.io', false, true, false),
  p('v4.base64.channel.k8s.io', true, true, false),
];

/**
 * Exec and attach over SPDY, as kubelet's remotecommand serves them (X-Stream-Protocol-Version):
 * a stream a channel, so the client ends its stdin with that stream's FIN, told as a CLOSE
 * message. v4 writes a Status on the error stream, older ones the error's text.
 */
export const SPDY_EXEC_PROTOCOLS: ChannelProtocol[] = [
  p('v4.channel.k8s.io', false, true, true),
  p('v3.channel.k8s.io', false, false, true),
  p('v2.channel.k8s.io', false, false, true),
  p('channel.k8s.io', false, false, true),
];

/** Port forwarding over SPDY: a data and an error stream a connection (spdy-portforward.ts). */
export const SPDY_PORT_FORWARD_PROTOCOLS: ChannelProtocol[] = [p('portforward.k8s.io', false, false, false)];

/**
 * The first of the client's offers that `supported` has (the client's order decides, as in
 * wsstream); none offered is the binary protocol of old clients. Undefined: nothing fits.
 */
export function negotiate(offered: string[], supported: ChannelProtocol[]): ChannelProtocol | undefined {
  if (!offered.length) return p('', false, false, false);
  for (const o of offered) {
    const found = supported.find((s) => s.name === o);
    if (found) return found;
  }
  return undefined;
}

/** A message on `channel`, framed for the protocol; `text` says to send it as a text frame. */
export function encodeChannel(proto: ChannelProtocol, channel: number, data: Buffer): { data: Buffer; text: boolean } {
  if (proto.base64) return { data: Buffer.from(String.fromCharCode(48 + channel) + data.toString('base64')), text: true };
  return { data: Buffer.concat([Buffer.from([channel]), data]), text: false };
}

/** A client's message: its channel and data, or undefined when it is empty (nothing to route). */
export function decodeChannel(proto: ChannelProtocol, msg: Buffer): { channel: number; data: Buffer } | undefined {
  if (!msg.length) return undefined;
  if (proto.base64) {
    const channel = msg[0] - 48;
    return { channel, data: Buffer.from(msg.subarray(1).toString('latin1'), 'base64') };
  }
  return { channel: msg[0], data: msg.subarray(1) };
}

/** A resize message's terminal size (remotecommand's TerminalSize JSON), or an error naming it. */
export function parseResize(data: Buffer): { rows: number; cols: number } {
  let v: unknown;
  try {
    v = JSON.parse(data.toString('utf8'));
  } catch {
    throw new Error(`resize: not JSON: ${data.toString('utf8').slice(0, 100)}`);
  }
  const { Width, Height } = (v ?? {}) as { Width?: unknown; Height?: unknown };
  const ok = (n: unknown): n is number => Number.isInteger(n) && (n as number) >= 0 && (n as number) < 65536;
  if (!ok(Width) || !ok(Height)) throw new Error(`resize: Width and Height must be integers: ${data.toString('utf8').slice(0, 100)}`);
  return { rows: Height, cols: Width };
}

/**
 * What the error channel carries when a command ends: v4's Status (Success; or Failure with
 * reason NonZeroExitCode and the code as the cause, as kubelet writes it, which kubectl turns
 * back into the exit code), or for older protocols the error's text (nothing on success).
 */
export function exitMessage(proto: ChannelProtocol, cmd: string[], code: number): Buffer | undefined {
  if (!proto.status) return code === 0 ? undefined : Buffer.from(`command terminated with non-zero exit code: ${code}`);
  if (code === 0) return Buffer.from(JSON.stringify({ metadata: {}, status: 'Success' }));
  return Buffer.from(
    JSON.stringify({
      metadata: {},
      status: 'Failure',
      message: `command terminated with non-zero exit code: error executing command [${cmd.join(' ')}], exit code ${code}`,
      reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
    }),
  );
}

/** A failure other than an exit code (the command could not start, the container is gone). */
export function errorMessage(proto: ChannelProtocol, message: string): Buffer {
  if (!proto.status) return Buffer.from(message);
  return Buffer.from(JSON.stringify({ metadata: {}, status: 'Failure', message, reason: 'InternalError', code: 500 }));
}
