// The chat window: launcher, panel, transcript, composer. Accessible: the launcher is a
// real button (aria-expanded), the panel a labelled dialog, new messages are announced by an
// aria-live log, Escape closes and gives focus back to the launcher, Enter sends.

import type { Connection } from "./connection";
import { CHAT_ICON, CLIP_ICON, el, icon, safeUrl } from "./dom";
import type { Content, MessageFrame, Option, ServerFrame, Settings } from "./protocol";
import type { Entry } from "./store";
import { styles } from "./styles";

const TYPING_REPEAT_MS = 2_000;
const TYPING_IDLE_MS = 4_000;

let counter = 0;
function clientId(): string {
  counter += 1;
  return `${Date.now().toString(36)}-${counter}-${Math.random().toString(36).slice(2, 8)}`;
}

export class ChatWindow {
  private readonly root: ShadowRoot;
  private readonly launcher: HTMLButtonElement;
  private readonly panel: HTMLElement;
  private readonly log: HTMLElement;
  private readonly typing: HTMLElement;
  private readonly input: HTMLTextAreaElement;
  private readonly error: HTMLElement;
  private readonly status: HTMLElement;
  private readonly file: HTMLInputElement;
  private readonly nodes = new Map<string, HTMLElement>();
  // Frames sent but not yet `accepted`: sent again after a reconnect (the client id makes
  // the server store each once).
  private readonly unacknowledged = new Map<string, Record<string, unknown>>();
  private typingSent = 0;
  private typingTimer = 0;
  private agentTypingTimer = 0;

  constructor(
    host: HTMLElement,
    private readonly settings: Settings,
    private readonly connection: Connection,
  ) {
    this.root = host.attachShadow({ mode: "open" });
    const style = el("style");
    style.textContent = styles(settings.color, settings.position);
    this.launcher = el("button", {
      class: "launcher",
      type: "button",
      "aria-label": `Open chat: ${settings.title}`,
      "aria-expanded": "false",
      "aria-controls": "lk-panel",
    });
    this.launcher.append(icon(CHAT_ICON));
    this.panel = el("section", { class: "panel", id: "lk-panel", role: "dialog", "aria-label": settings.title });
    this.panel.hidden = true;
    const header = el("header");
    const close = el("button", { type: "button", "aria-label": "Close chat" }, "\u00D7");
    this.status = el("span", { class: "status" }, "connecting\u2026");
    header.append(el("h2", {}, settings.title), this.status, close);
    this.log = el("div", { class: "log", role: "log", "aria-live": "polite", "aria-relevant": "additions", tabindex: "0" });
    this.typing = el("div", { class: "typing", "aria-live": "polite" });
    this.error = el("div", { class: "error", role: "alert" });
    const form = el("form");
    this.input = el("textarea", {
      rows: "1",
      "aria-label": "Message",
      placeholder: "Type a message\u2026",
      maxlength: String(settings.max_message_length),
    });
    this.file = el("input", { type: "file", class: "sr", tabindex: "-1", "aria-hidden": "true", accept: settings.allowed_mime_types.join(",") });
    const attach = el("button", { type: "button", class: "attach", "aria-label": "Attach a file" });
    attach.append(icon(CLIP_ICON));
    const send = el("button", { type: "submit" }, "Send");
    form.append(attach, this.input, send, this.file);
    this.panel.append(header, this.log, this.typing, this.error, form);
    this.root.append(style, this.launcher, this.panel);

    this.launcher.addEventListener("click", () => (this.panel.hidden ? this.open() : this.close()));
    close.addEventListener("click", () => this.close());
    this.panel.addEventListener("keydown", (event) => {
      if (event.key === "Escape") this.close();
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.sendText();
    });
    this.input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey) {
        event.preventDefault();
        this.sendText();
      }
    });
    this.input.addEventListener("input", () => this.typed());
    attach.addEventListener("click", () => this.file.click());
    this.file.addEventListener("change", () => void this.attachFile());
    document.addEventListener("visibilitychange", () => this.markRead());
  }

  restore(entries: Entry[]): void {
    if (!entries.length && this.settings.greeting) {
      this.render({ key: "greeting", from: "agent", content: { text: this.settings.greeting }, time: "" });
    }
    for (const entry of entries) this.render(entry);
  }

  open(): void {
    this.panel.hidden = false;
    this.launcher.setAttribute("aria-expanded", "true");
    this.input.focus();
    this.log.scrollTop = this.log.scrollHeight;
    this.markRead();
  }

  close(): void {
    this.panel.hidden = true;
    this.launcher.setAttribute("aria-expanded", "false");
    this.launcher.focus();
  }

  connected(yes: boolean): void {
    this.status.textContent = yes ? "online" : "reconnecting\u2026";
  }

  onFrame(frame: ServerFrame): void {
    const saved = this.connection.saved;
    switch (frame.type) {
      case "message":
        this.message(frame);
        break;
      case "ready":
        for (const unsent of this.unacknowledged.values()) this.connection.send(unsent);
        break;
      case "accepted":
        this.unacknowledged.delete(frame.id);
        this.nodes.get(`pending:${frame.id}`)?.classList.remove("pending");
        break;
      case "status": {
        const entry = saved?.transcript.find((e) => e.key === frame.message);
        if (entry) entry.status = frame.status;
        this.meta(frame.message, frame.status);
        break;
      }
      case "typing":
        this.typing.textContent = frame.typing ? "Agent is typing\u2026" : "";
        window.clearTimeout(this.agentTypingTimer);
        if (frame.typing) this.agentTypingTimer = window.setTimeout(() => (this.typing.textContent = ""), 10_000);
        break;
      case "error":
        this.error.textContent = frame.message;
        if (frame.id) {
          this.unacknowledged.delete(frame.id);
          this.meta(`pending:${frame.id}`, "not sent");
        }
        break;
      default:
        break;
    }
  }

  private message(frame: MessageFrame): void {
    const saved = this.connection.saved;
    if (!saved) return;
    const pendingKey = frame.id ? `pending:${frame.id}` : "";
    const pending = pendingKey ? saved.transcript.find((e) => e.key === pendingKey) : undefined;
    if (pending) {
      pending.key = frame.message;
      const node = this.nodes.get(pendingKey);
      if (node) {
        this.nodes.delete(pendingKey);
        this.nodes.set(frame.message, node);
        node.dataset.message = frame.message;
        node.classList.remove("pending");
      }
      return;
    }
    if (saved.transcript.some((e) => e.key === frame.message)) return; // already shown
    const entry: Entry = { key: frame.message, from: frame.from, content: frame.content, time: frame.time };
    saved.transcript.push(entry);
    this.render(entry);
    this.typing.textContent = "";
    if (frame.from === "agent") {
      this.connection.send({ type: "received", message: frame.message });
      this.markRead();
    }
  }

  private markRead(): void {
    if (this.panel.hidden || document.visibilityState !== "visible") return;
    const last = [...(this.connection.saved?.transcript ?? [])].reverse().find((e) => e.from === "agent");
    if (last && last.status !== "read-sent") {
      last.status = "read-sent";
      this.connection.send({ type: "read", message: last.key });
    }
  }

  private render(entry: Entry): void {
    const node = el("div", { class: `msg ${entry.from}`, "data-message": entry.key });
    if (entry.key.startsWith("pending:")) node.classList.add("pending");
    const label = el("span", { class: "sr" }, entry.from === "agent" ? "Agent says: " : "You said: ");
    node.append(label, ...this.body(entry.content));
    this.log.append(node);
    this.nodes.set(entry.key, node);
    this.log.scrollTop = this.log.scrollHeight;
  }

  private body(content: Content): Node[] {
    const parts: Node[] = [];
    if (content.media) {
      const media = content.media;
      const url = media.url ? safeUrl(this.connection.attachmentUrl(media.url)) : null;
      if (url && media.type === "image") {
        parts.push(el("img", { src: url, alt: media.caption || media.filename || "image", loading: "lazy" }));
      } else if (url && (media.type === "video" || media.type === "audio")) {
        parts.push(el(media.type, { src: url, controls: "" }));
      } else if (url) {
        parts.push(el("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, media.filename || "download"));
      }
      if (media.caption) parts.push(el("div", {}, media.caption));
    }
    if (content.text) parts.push(el("div", {}, content.text));
    if (content.reaction) parts.push(el("div", {}, content.reaction));
    if (content.link) {
      const url = safeUrl(content.link.url);
      if (url) parts.push(el("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, content.link.title));
    }
    if (content.footer) parts.push(el("span", { class: "meta" }, content.footer));
    const options = content.buttons ?? content.quick_replies;
    if (options?.length) {
      const kind = content.buttons ? "button" : "quick_reply";
      const box = el("div", { class: "options", role: "group" });
      for (const option of options) box.append(this.optionButton(kind, option));
      parts.push(box);
    }
    if (!parts.length) parts.push(el("div", {}, "(message)"));
    return parts;
  }

  private optionButton(kind: string, option: Option): HTMLButtonElement {
    const button = el("button", { type: "button" }, option.title);
    button.addEventListener("click", () => {
      const id = clientId();
      this.pending(id, { text: option.title });
      this.submit({ type: "option", id, kind, option: option.id, title: option.title });
    });
    return button;
  }

  private meta(key: string, text: string): void {
    const node = this.nodes.get(key);
    if (!node) return;
    const meta = node.querySelector(".meta.state") ?? node.appendChild(el("span", { class: "meta state" }));
    meta.textContent = text;
  }

  private pending(id: string, content: Content): void {
    const saved = this.connection.saved;
    const entry: Entry = { key: `pending:${id}`, from: "visitor", content, time: new Date().toISOString() };
    saved?.transcript.push(entry);
    this.render(entry);
    this.error.textContent = "";
  }

  private submit(frame: Record<string, unknown> & { id: string }): void {
    this.unacknowledged.set(frame.id, frame);
    this.connection.send(frame);
  }

  private sendText(): void {
    const text = this.input.value.trim();
    if (!text) return;
    const id = clientId();
    this.pending(id, { text });
    this.submit({ type: "message", id, text });
    this.input.value = "";
    this.stopTyping();
  }

  private typed(): void {
    const now = Date.now();
    if (now - this.typingSent > TYPING_REPEAT_MS) {
      this.typingSent = now;
      this.connection.send({ type: "typing", typing: true });
    }
    window.clearTimeout(this.typingTimer);
    this.typingTimer = window.setTimeout(() => this.stopTyping(), TYPING_IDLE_MS);
  }

  private stopTyping(): void {
    window.clearTimeout(this.typingTimer);
    if (this.typingSent) {
      this.typingSent = 0;
      this.connection.send({ type: "typing", typing: false });
    }
  }

  private async attachFile(): Promise<void> {
    const file = this.file.files?.[0];
    this.file.value = "";
    if (!file) return;
    if (file.size > this.settings.max_upload_bytes) {
      this.error.textContent = "That file is too large.";
      return;
    }
    if (!this.settings.allowed_mime_types.includes(file.type)) {
      this.error.textContent = "That type of file cannot be sent here.";
      return;
    }
    try {
      const attachment = await this.connection.upload(file);
      const id = clientId();
      const caption = this.input.value.trim();
      this.pending(id, { text: `${file.name}${caption ? ` \u2014 ${caption}` : ""}` });
      this.submit({ type: "message", id, text: caption, attachment });
      this.input.value = "";
    } catch (problem) {
      this.error.textContent = problem instanceof Error ? problem.message : "upload failed";
    }
  }
}
