// Incremental parser for the text/event-stream format (WHATWG HTML, "server-sent events").
// Input arrives in arbitrary chunks: a line, a CRLF pair or a field can be split anywhere.

export interface SseEvent {
  /** The `event:` field, or "message" when absent. */
  event: string;
  data: string;
  /** The last `id:` seen so far in this stream (the resume point), if any. */
  id: string | undefined;
}

export class SseParser {
  private buffer = '';
  /** A chunk ended in CR: a LF at the start of the next chunk belongs to the same line end. */
  private pendingCr = false;
  private eventType = '';
  private dataLines: string[] = [];
  private hasData = false;
  private lastId: string | undefined;

  constructor(
    private readonly onEvent: (event: SseEvent) => void,
    private readonly onRetry?: (ms: number) => void,
  ) {}

  /** Feeds decoded text; calls onEvent for every event completed by it. */
  feed(text: string): void {
    if (this.pendingCr && text.startsWith('\n')) text = text.slice(1);
    this.pendingCr = false;
    this.buffer += text;

    let start = 0;
    for (;;) {
      const cr = this.buffer.indexOf('\r', start);
      const lf = this.buffer.indexOf('\n', start);
      if (cr < 0 && lf < 0) break;
      let end: number;
      let next: number;
      if (cr >= 0 && (lf < 0 || cr < lf)) {
        end = cr;
        if (cr + 1 < this.buffer.length) {
          next = this.buffer[cr + 1] === '\n' ? cr + 2 : cr + 1;
        } else {
          next = cr + 1;
          this.pendingCr = true;
        }
      } else {
        end = lf;
        next = lf + 1;
      }
      this.line(this.buffer.slice(start, end));
      start = next;
    }
    this.buffer = this.buffer.slice(start);
  }

  /** Drops a half-received event, keeping the last id (used when the connection is replaced). */
  reset(): void {
    this.buffer = '';
    this.pendingCr = false;
    this.eventType = '';
    this.dataLines = [];
    this.hasData = false;
  }

  private line(line: string): void {
    if (line === '') {
      this.dispatch();
      return;
    }
    if (line.startsWith(':')) return; // comment, e.g. ": keepalive"

    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);

    switch (field) {
      case 'event':
        this.eventType = value;
        break;
      case 'data':
        this.dataLines.push(value);
        this.hasData = true;
        break;
      case 'id':
        if (!value.includes('\0')) this.lastId = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.onRetry?.(Number(value));
        break;
    }
  }

  private dispatch(): void {
    const event = this.eventType || 'message';
    const hasData = this.hasData;
    const data = this.dataLines.join('\n');
    this.eventType = '';
    this.dataLines = [];
    this.hasData = false;
    if (hasData) this.onEvent({ event, data, id: this.lastId });
  }
}
