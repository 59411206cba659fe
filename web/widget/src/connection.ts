// The visitor's session and socket: creates (or renews) the session over HTTP, says hello
// with the token and the last sequence seen, reconnects with backoff, and resumes.

import { parseFrame, type ServerFrame, type Settings } from "./protocol";
import { Store, type Saved } from "./store";

export interface Handlers {
  frame(frame: ServerFrame): void;
  state(connected: boolean): void;
}

const MAX_BACKOFF_MS = 30_000;
const PING_MS = 25_000;
const RENEW_BEFORE_S = 7 * 86_400;

export class Connection {
  saved: Saved | null;
  private socket: WebSocket | null = null;
  private attempts = 0;
  private ping = 0;
  private closed = false;

  constructor(
    private readonly base: string,
    private readonly channel: string,
    private readonly store: Store,
    private readonly handlers: Handlers,
  ) {
    this.saved = store.load();
  }

  private url(path: string): string {
    return `${this.base}/webchat/${encodeURIComponent(this.channel)}${path}`;
  }

  async settings(): Promise<Settings> {
    // A server that is starting answers 503 for a moment: try a few times before giving up.
    for (let attempt = 0; ; attempt += 1) {
      const answer = await fetch(this.url("/config")).catch(() => null);
      if (answer?.ok) return (await answer.json()) as Settings;
      if (attempt >= 5 || (answer && answer.status !== 503)) {
        throw new Error(`chat unavailable (${answer?.status ?? "network"})`);
      }
      await new Promise((resolve) => window.setTimeout(resolve, 1000 * 2 ** attempt));
    }
  }

  private async session(name = ""): Promise<Saved> {
    const now = Date.now() / 1000;
    const current = this.saved;
    if (current && current.expire - now > RENEW_BEFORE_S && !name) return current;
    const answer = await fetch(this.url("/sessions"), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token: current?.token ?? "", name }),
    });
    if (!answer.ok) throw new Error(`session refused (${answer.status})`);
    const body = (await answer.json()) as { token: string; visitor: string; expire_time: number };
    const sameVisitor = current && current.visitor === body.visitor;
    this.saved = {
      token: body.token,
      visitor: body.visitor,
      expire: body.expire_time,
      seq: sameVisitor ? current.seq : 0,
      transcript: sameVisitor ? current.transcript : [],
    };
    this.store.save(this.saved);
    return this.saved;
  }

  async start(): Promise<void> {
    this.closed = false;
    try {
      const session = await this.session();
      this.open(session);
    } catch {
      this.retry();
    }
  }

  private open(session: Saved): void {
    const socket = new WebSocket(this.url("/ws").replace(/^http/, "ws"));
    this.socket = socket;
    socket.onopen = () => {
      socket.send(JSON.stringify({ type: "hello", token: session.token, after: session.seq }));
    };
    socket.onmessage = (event: MessageEvent) => {
      const frame = parseFrame(event.data);
      if (!frame) return;
      if (frame.type === "ready") {
        this.attempts = 0;
        this.handlers.state(true);
        this.ping = window.setInterval(() => this.send({ type: "ping" }), PING_MS);
      }
      if ("seq" in frame && this.saved && frame.seq > this.saved.seq) {
        this.saved.seq = frame.seq;
      }
      this.handlers.frame(frame);
      if (this.saved) this.store.save(this.saved);
    };
    socket.onclose = (event: CloseEvent) => {
      window.clearInterval(this.ping);
      this.socket = null;
      this.handlers.state(false);
      if (event.code === 4401) {
        // The session is no longer valid: a new one next time.
        this.saved = null;
        this.store.clear();
      }
      if (!this.closed) this.retry();
    };
  }

  private retry(): void {
    const delay = Math.min(MAX_BACKOFF_MS, 500 * 2 ** this.attempts) * (0.5 + Math.random() / 2);
    this.attempts += 1;
    window.setTimeout(() => {
      if (!this.closed) void this.start();
    }, delay);
  }

  /** Sends now, or drops when disconnected: the window re-sends unacknowledged messages
   * after the next `ready`, and receipts and typing are not worth keeping. */
  send(frame: Record<string, unknown>): void {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(frame));
  }

  async upload(file: File): Promise<string> {
    const session = await this.session();
    const answer = await fetch(this.url("/attachments"), {
      method: "POST",
      headers: {
        authorization: `Bearer ${session.token}`,
        "content-type": file.type || "application/octet-stream",
        "x-filename": encodeURIComponent(file.name).slice(0, 200),
      },
      body: file,
    });
    const body = (await answer.json()) as { attachment?: string; error?: { message: string } };
    if (!answer.ok || !body.attachment) throw new Error(body.error?.message ?? "upload failed");
    return body.attachment;
  }

  attachmentUrl(path: string): string {
    if (!path.startsWith("/webchat/")) return path;
    return `${this.base}${path}?token=${encodeURIComponent(this.saved?.token ?? "")}`;
  }

  stop(): void {
    this.closed = true;
    this.socket?.close();
  }
}
