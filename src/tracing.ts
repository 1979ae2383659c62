// Spans, for any layer, without loading OpenTelemetry: `withSpan` runs its work directly until
// tracing is started (OTEL_EXPORTER_OTLP_ENDPOINT set; see http/opentelemetry.ts, loaded only
// then), after which it runs the work inside a span that is a child of whatever span is active —
// the GraphQL execution's, for a database call. Webhook deliveries and other outgoing work wrap
// themselves in it the same way.

export type SpanAttributes = Record<string, string | number | boolean>;

/** Runs `work` inside a span named `name`; the span records the error when `work` fails. */
export type SpanRunner = <T>(name: string, attributes: SpanAttributes, work: () => Promise<T>) => Promise<T>;

const untraced: SpanRunner = (_name, _attributes, work) => work();
let runner: SpanRunner = untraced;

export function withSpan<T>(name: string, attributes: SpanAttributes, work: () => Promise<T>): Promise<T> {
  return runner(name, attributes, work);
}

/** Installed by the tracing setup; `undefined` puts the direct path back (tests, shutdown). */
export function setSpanRunner(next: SpanRunner | undefined): void {
  runner = next ?? untraced;
}
