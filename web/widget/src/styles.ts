// Styles live in the widget's shadow root: the host page's CSS cannot break them and they
// cannot leak into the page. The accent colour comes from the channel settings.

export function styles(color: string, position: string): string {
  const side = position === "bottom-left" ? "left" : "right";
  return `
:host { all: initial; }
* { box-sizing: border-box; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
.launcher { position: fixed; bottom: 20px; ${side}: 20px; width: 56px; height: 56px; border-radius: 50%;
  border: none; background: ${color}; color: #fff; cursor: pointer; box-shadow: 0 4px 14px rgba(0,0,0,.25);
  display: flex; align-items: center; justify-content: center; z-index: 2147483000; }
.launcher svg { width: 28px; height: 28px; }
.launcher:focus-visible, button:focus-visible, textarea:focus-visible { outline: 3px solid #111; outline-offset: 2px; }
.panel { position: fixed; bottom: 88px; ${side}: 20px; width: min(370px, calc(100vw - 40px));
  height: min(540px, calc(100vh - 120px)); display: flex; flex-direction: column; background: #fff;
  color: #111; border-radius: 12px; box-shadow: 0 8px 30px rgba(0,0,0,.25); overflow: hidden; z-index: 2147483000; }
.panel[hidden] { display: none; }
header { background: ${color}; color: #fff; padding: 12px 14px; display: flex; align-items: center; gap: 8px; }
header h2 { font-size: 16px; margin: 0; flex: 1; font-weight: 600; }
header button { background: transparent; border: none; color: #fff; font-size: 20px; cursor: pointer; }
.status { font-size: 12px; opacity: .85; }
.log { flex: 1; overflow-y: auto; padding: 12px; display: flex; flex-direction: column; gap: 8px; background: #f6f7f9; }
.msg { max-width: 80%; padding: 8px 11px; border-radius: 12px; font-size: 14px; line-height: 1.4;
  white-space: pre-wrap; overflow-wrap: anywhere; }
.msg.agent { align-self: flex-start; background: #fff; border: 1px solid #e3e5e8; }
.msg.visitor { align-self: flex-end; background: ${color}; color: #fff; }
.msg.pending { opacity: .6; }
.msg .meta { display: block; font-size: 11px; opacity: .7; margin-top: 3px; }
.msg img, .msg video { max-width: 100%; border-radius: 8px; display: block; }
.msg a { color: inherit; }
.options { display: flex; flex-wrap: wrap; gap: 6px; margin-top: 6px; }
.options button { border: 1px solid ${color}; color: ${color}; background: #fff; border-radius: 16px;
  padding: 4px 10px; font-size: 13px; cursor: pointer; }
.typing { font-size: 12px; color: #555; padding: 0 14px 4px; min-height: 18px; background: #f6f7f9; }
form { display: flex; gap: 6px; padding: 8px; border-top: 1px solid #e3e5e8; background: #fff; align-items: flex-end; }
textarea { flex: 1; resize: none; border: 1px solid #cfd3d8; border-radius: 8px; padding: 8px; font-size: 14px;
  max-height: 96px; min-height: 38px; color: #111; background: #fff; }
form button { border: none; border-radius: 8px; background: ${color}; color: #fff; padding: 0 12px; height: 38px; cursor: pointer; }
form button.attach { background: #eef0f3; color: #333; }
.error { color: #b00020; font-size: 12px; padding: 0 10px 6px; }
.sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
`;
}
