// <script src="https://linktor.example.com/widget.js" data-channel="KEY" async></script>
// Optional: data-server (defaults to where the script came from), data-open="true".

import { Connection } from "./connection";
import { Store } from "./store";
import { ChatWindow } from "./ui";

interface LinktorChat {
  open(): void;
  close(): void;
}

declare global {
  interface Window {
    LinktorChat?: LinktorChat;
  }
}

async function boot(script: HTMLScriptElement): Promise<void> {
  const channel = script.dataset.channel ?? "";
  if (!channel || window.LinktorChat) return;
  const base = (script.dataset.server ?? new URL(script.src, window.location.href).origin).replace(/\/$/, "");
  const store = new Store(channel);
  let chat: ChatWindow | null = null;
  const connection = new Connection(base, channel, store, {
    frame: (frame) => chat?.onFrame(frame),
    state: (connected) => chat?.connected(connected),
  });
  const settings = await connection.settings();
  const host = document.createElement("div");
  host.id = "linktor-webchat";
  document.body.appendChild(host);
  chat = new ChatWindow(host, settings, connection);
  chat.restore(connection.saved?.transcript ?? []);
  window.LinktorChat = { open: () => chat?.open(), close: () => chat?.close() };
  await connection.start();
  if (script.dataset.open === "true") chat.open();
}

const current = document.currentScript;
if (current instanceof HTMLScriptElement) {
  const start = () => void boot(current).catch((problem: unknown) => console.warn("Linktor chat:", problem));
  if (document.body) start();
  else document.addEventListener("DOMContentLoaded", start);
}
