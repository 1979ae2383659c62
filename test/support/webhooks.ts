// What the webhook tests share: the GraphQL they send, and a test app with a running dispatcher and worker.
import { expect } from 'vitest';
import type { TestApp } from './app.js';

export const createEndpointMutation = `mutation ($input: CreateWebhookEndpointInput!) {
  createWebhookEndpoint(input: $input) { endpoint { id url format eventTypes enabled createdAt } secret }
}`;

export const deliveriesQuery = `query ($id: ID!) {
  webhookEndpoint(id: $id) {
    deliveries(first: 20) { edges { node { id webhookId type state attempts lastStatusCode lastDurationMs lastError lastResponseBody nextAttemptAt deliveredAt payload event { id type } } } }
  }
}`;

export interface Delivery {
  id: string;
  webhookId: string;
  type: string;
  state: string;
  attempts: number;
  lastStatusCode: number | null;
  lastDurationMs: number | null;
  lastError: string | null;
  lastResponseBody: string | null;
  nextAttemptAt: string | null;
  deliveredAt: string | null;
  payload: string;
  event: { id: string; type: string } | null;
}

export async function createEndpoint(
  t: Pick<TestApp, 'graphql'>,
  input: { url: string; eventTypes: string[]; format?: string; description?: string },
): Promise<{ id: string; secret: string }> {
  const result = await t.graphql<{ createWebhookEndpoint: { endpoint: { id: string }; secret: string } }>(createEndpointMutation, { input });
  expect(result.errors).toBeUndefined();
  return { id: result.data!.createWebhookEndpoint.endpoint.id, secret: result.data!.createWebhookEndpoint.secret };
}

/** The endpoint's deliveries, newest first. */
export async function deliveriesOf(t: Pick<TestApp, 'graphql'>, endpointId: string): Promise<Delivery[]> {
  const result = await t.graphql<{ webhookEndpoint: { deliveries: { edges: { node: Delivery }[] } } | null }>(deliveriesQuery, { id: endpointId });
  expect(result.errors).toBeUndefined();
  return result.data!.webhookEndpoint?.deliveries.edges.map((edge) => edge.node) ?? [];
}

/** Polls until `check` holds (it throws until then), for at most `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

export async function revoke(t: Pick<TestApp, 'graphql'>, sessionId: string): Promise<void> {
  const result = await t.graphql('mutation ($id: ID!) { adminRevokeSession(input: { sessionId: $id }) { session { id } } }', { id: sessionId });
  expect(result.errors).toBeUndefined();
}
