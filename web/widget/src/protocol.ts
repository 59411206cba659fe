// The visitor socket's frames (docs/channels/webchat.md). Server data is untrusted text:
// it is only ever put into the page with textContent, never as HTML.

export interface Media {
  type: "image" | "video" | "audio" | "document";
  url: string;
  mime_type: string;
  filename: string;
  size_bytes: number;
  caption: string;
}

export interface Option {
  id: string;
  title: string;
}

export interface Content {
  text?: string;
  footer?: string;
  media?: Media;
  buttons?: Option[];
  quick_replies?: Option[];
  link?: { title: string; url: string };
  reaction?: string;
  unsupported?: string;
}

export interface MessageFrame {
  type: "message";
  seq: number;
  message: string;
  from: "visitor" | "agent";
  sender_name: string;
  time: string;
  content: Content;
  id?: string;
}

export type ServerFrame =
  | { type: "ready"; visitor: string; seq: number }
  | MessageFrame
  | { type: "status"; seq: number; message: string; status: string }
  | { type: "accepted"; id: string }
  | { type: "typing"; typing: boolean }
  | { type: "error"; code: string; message: string; id?: string; retryable?: boolean; retry_after?: number }
  | { type: "resync"; seq: number }
  | { type: "pong" };

export interface Settings {
  title: string;
  greeting: string;
  color: string;
  position: "bottom-right" | "bottom-left";
  max_upload_bytes: number;
  allowed_mime_types: string[];
  max_message_length: number;
}

export function parseFrame(data: unknown): ServerFrame | null {
  if (typeof data !== "string") return null;
  try {
    const frame: unknown = JSON.parse(data);
    if (frame && typeof frame === "object" && typeof (frame as { type?: unknown }).type === "string") {
      return frame as ServerFrame;
    }
  } catch {
    // not JSON: ignored
  }
  return null;
}
