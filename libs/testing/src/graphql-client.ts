/** A minimal GraphQL-over-HTTP client for tests and tools (real HTTP, no mocks). */
export interface GraphQLErrorShape {
  message: string;
  path?: string[];
  extensions?: { code?: string; field?: string; [k: string]: unknown };
}

export class GraphQLClient {
  constructor(
    readonly url: string,
    private token?: string,
  ) {}

  withToken(token: string | undefined): GraphQLClient {
    return new GraphQLClient(this.url, token);
  }

  async request<T = Record<string, unknown>>(query: string, variables: Record<string, unknown> = {}): Promise<{ data?: T; errors?: GraphQLErrorShape[] }> {
    const res = await fetch(this.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(this.token ? { authorization: `Bearer ${this.token}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as { data?: T; errors?: GraphQLErrorShape[] };
    return body;
  }

  /** Returns data or throws with the GraphQL errors (code and message) in the message. */
  async ok<T = Record<string, unknown>>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const r = await this.request<T>(query, variables);
    if (r.errors?.length || !r.data) {
      throw new Error(`GraphQL errors: ${JSON.stringify(r.errors)}`);
    }
    return r.data;
  }
}
