// OpenTelemetry traces, loaded only when an OTLP endpoint is configured (start.ts imports this
// module then, and only then). @graphql-hive/plugin-opentelemetry traces each request — HTTP,
// GraphQL parse, validate, context, execute — continuing the caller's `traceparent`; `withSpan`
// (src/tracing.ts) adds the spans of our own work beneath them: the planned statement, database
// calls, and whatever else wraps itself in it. Spans go to the OTLP/HTTP exporter, which reads
// OTEL_EXPORTER_OTLP_ENDPOINT / OTEL_EXPORTER_OTLP_TRACES_ENDPOINT and their headers itself.
import { createHash } from 'node:crypto';
import { hashOperation, normalizeOperation } from '@graphql-hive/core';
import { useOpenTelemetry } from '@graphql-hive/plugin-opentelemetry';
import { disable, openTelemetrySetup } from '@graphql-hive/plugin-opentelemetry/setup';
import { Logger as HiveLogger } from '@graphql-hive/logger';
import { SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { AlwaysOffSampler, AlwaysOnSampler, BasicTracerProvider, ParentBasedSampler, TraceIdRatioBasedSampler, type Sampler } from '@opentelemetry/sdk-trace-base';
import { TypeInfo, type DocumentNode, type GraphQLSchema } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { TracingConfig } from '../config.js';
import type { Logger } from '../logger.js';
import { setSpanRunner } from '../tracing.js';

export interface Tracing {
  /** The Yoga plugin that traces each request. */
  plugin: Plugin;
  /** Sends the spans still buffered and stops tracing. */
  shutdown(): Promise<void>;
}

/** OTEL_TRACES_SAMPLER as the specification defines it. */
function sampler({ sampler: name, ratio }: TracingConfig): Sampler {
  switch (name) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(ratio);
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) });
    default:
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

/** The plugin's own messages as our JSON log lines. */
function hiveLogger(logger: Logger): HiveLogger {
  return new HiveLogger({
    level: 'info',
    writers: [{ write: (level, attrs, msg) => logger[level === 'trace' ? 'debug' : level](msg ?? 'opentelemetry', attrs ? { ...attrs } : undefined) }],
  });
}

/**
 * The operation span's `hive.graphql.operation.hash`: Hive's hash of the operation where it can be
 * computed, else an MD5 of the same normalized text and name without the schema coordinates, else no
 * attribute. Hive's (the plugin's default, run inside execution, where a throw fails the operation)
 * throws on an object literal in a non-null JSON input field (`traits: { email: "…" }`: it asks
 * isScalarType of `JSON!`; @graphql-hive/core 0.22.5 and 0.23.0). A fresh TypeInfo each time: a
 * throw leaves a shared one's stacks half-filled.
 */
export function operationHash({ document, operationName, schema }: { document: DocumentNode; operationName?: string | null; schema: GraphQLSchema }): string | null {
  try {
    return hashOperation({ documentNode: document, operationName: operationName ?? null, schema, variables: null, typeInfo: new TypeInfo(schema) });
  } catch {
    try {
      return createHash('md5').update(normalizeOperation({ document, operationName: operationName ?? undefined })).update(operationName ?? '').digest('hex');
    } catch {
      return null;
    }
  }
}

export function startTracing(config: TracingConfig, logger: Logger): Tracing {
  const log = hiveLogger(logger);
  openTelemetrySetup({
    contextManager: new AsyncLocalStorageContextManager(),
    resource: { serviceName: config.serviceName },
    traces: { exporter: new OTLPTraceExporter() },
    sampler: sampler(config),
    log,
  });
  const tracer = trace.getTracer('sessiongraph');
  setSpanRunner((name, attributes, work) =>
    tracer.startActiveSpan(name, { attributes }, async (span) => {
      try {
        return await work();
      } catch (error) {
        span.recordException(error as Error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
        throw error;
      } finally {
        span.end();
      }
    }),
  );
  return {
    plugin: useOpenTelemetry({ traces: true, log, hashOperation: operationHash }) as unknown as Plugin,
    async shutdown() {
      setSpanRunner(undefined);
      const provider = trace.getTracerProvider() as { getDelegate?: () => unknown };
      const delegate = provider.getDelegate?.() ?? provider;
      if (delegate instanceof BasicTracerProvider) await delegate.shutdown();
      disable();
    },
  };
}
