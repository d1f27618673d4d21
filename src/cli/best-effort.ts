// Requests the CLI sends on the side of a session (a window size at SIGWINCH, a signal passed on
// by --sig-proxy) whose failure changes nothing the user could act on: the container or exec has
// usually just ended, which the session itself then reports. docker's CLI drops these errors
// too (it logs them at debug level only); here they are dropped in this one place, said so.

export function bestEffort(request: Promise<unknown>): void {
  request.then(done, dropped);
}

function done(): void {
  // Sent.
}

function dropped(): void {
  // Failed as the session ends: see the header.
}
