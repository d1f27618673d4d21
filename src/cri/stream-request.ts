// What the streaming server serves: a CRI Exec, Attach or PortForward request, as the CRI server
// hands it over (streaming.ts re-exports it), and the logger its handlers report to.

/** What a CRI Exec, Attach or PortForward asked for; the streaming server serves it once. */
export interface StreamRequest {
  kind: 'exec' | 'attach' | 'portforward';
  containerId?: string;
  podSandboxId?: string;
  cmd?: string[];
  tty?: boolean;
  stdin?: boolean;
  stdout?: boolean;
  stderr?: boolean;
  ports?: number[];
}

export type StreamLog = (level: 'debug' | 'info' | 'warn' | 'error', msg: string) => void;
