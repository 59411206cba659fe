// What the widget remembers per channel in localStorage: the visitor's session, the last
// event sequence seen (to resume without loss or duplicates) and a bounded transcript.

import type { Content } from "./protocol";

export interface Entry {
  key: string; // the message name, or "pending:<client id>" until the server stored it
  from: "visitor" | "agent";
  content: Content;
  time: string;
  status?: string;
}

export interface Saved {
  token: string;
  visitor: string;
  expire: number;
  seq: number;
  transcript: Entry[];
}

const KEEP = 100;

export class Store {
  private readonly key: string;

  constructor(channel: string) {
    this.key = `linktor.webchat.${channel.slice(0, 16)}`;
  }

  load(): Saved | null {
    try {
      const raw = window.localStorage.getItem(this.key);
      const saved = raw ? (JSON.parse(raw) as Saved) : null;
      if (saved && typeof saved.token === "string" && Array.isArray(saved.transcript)) return saved;
    } catch {
      // storage blocked or corrupt: start afresh
    }
    return null;
  }

  save(saved: Saved): void {
    try {
      saved.transcript = saved.transcript.slice(-KEEP);
      window.localStorage.setItem(this.key, JSON.stringify(saved));
    } catch {
      // private mode or quota: the session lasts as long as the page
    }
  }

  clear(): void {
    try {
      window.localStorage.removeItem(this.key);
    } catch {
      // ignored
    }
  }
}
