/** @module gateways/admin-ssh — the SSH admin console: `oio` commands over SSH, never a shell. */
export { AdminSshService, type AdminSshContext, type AdminSshOptions, type AdminFileTransfer } from './service';
export { splitCommandLine } from './command-line';
export { KeyDecoder, LineEditor, type Key, type EditorEvent } from './line-editor';
export { complete, applyCompletion, type CompletionSource, type Completion } from './completion';
export { RateLimiter } from './rate-limiter';
export { loadOrCreateHostKey } from './host-key';
export { runConsoleCommand, completionCommands, type ConsoleEnv } from './console-commands';
