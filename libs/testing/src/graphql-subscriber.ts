import WebSocket from 'ws';

/** A `graphql-transport-ws` subscription over a real websocket; collects every `next` payload. */
export class GraphQLSubscriber {
  readonly events: Array<Record<string, unknown>> = [];
  readonly errors: unknown[] = [];
  private constructor(private readonly ws: WebSocket) {}

  static async open(url: string, token: string, query: string, variables: Record<string, unknown>): Promise<GraphQLSubscriber> {
    const ws = new WebSocket(url.replace(/^http/, 'ws'), 'graphql-transport-ws');
    const sub = new GraphQLSubscriber(ws);
    await new Promise<void>((resolve, reject) => {
      ws.on('error', reject);
      ws.on('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })));
      ws.on('message', (raw) => {
        const m = JSON.parse(raw.toString()) as { type: string; payload?: { data?: Record<string, unknown>; errors?: unknown } | unknown[] };
        if (m.type === 'connection_ack') {
          ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query, variables } }));
          // The server subscribes asynchronously; give it a moment before the test acts.
          setTimeout(resolve, 300);
        } else if (m.type === 'next' && !Array.isArray(m.payload)) {
          if (m.payload?.errors) sub.errors.push(m.payload.errors);
          if (m.payload?.data) sub.events.push(m.payload.data);
        } else if (m.type === 'error') {
          sub.errors.push(m.payload);
        }
      });
    });
    return sub;
  }

  close(): void {
    this.ws.close();
  }
}
