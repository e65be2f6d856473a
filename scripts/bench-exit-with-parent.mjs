// Preloaded (`node --import`) into the API, worker and simulator that scripts/bench-payments.ts
// starts: each ends like on Ctrl-C (SIGTERM, its own graceful shutdown) as soon as the bench's
// IPC channel closes, which also happens when the bench is killed outright and cannot clean up.
// Plain JavaScript: Node also preloads it into worker threads (the Temporal workflow thread),
// where tsx does not load TypeScript and where there is no channel, so it does nothing there.
if (process.connected) {
  process.channel?.unref();
  process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
}
