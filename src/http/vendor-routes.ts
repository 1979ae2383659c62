// Mounts the vendor routes (src/vendors/) beside /graphql: a request under a vendor's prefix is
// answered there, with the same context GraphQL builds (caller, limits, loaders, events).
import type { IncomingMessage } from 'node:http';
import type { Plugin } from 'graphql-yoga';
import type { Context } from '../context.js';
import type { ContextFor } from '../vendors/index.js';

type VendorHandler = (request: Request, url: URL, contextFor: ContextFor) => Promise<Response | undefined>;
type BuildContext = (request: Request, req: IncomingMessage | undefined, credentials: { authorization: string | null }, plannedRead: boolean) => Promise<Context>;

export function vendorRoutesPlugin(handle: VendorHandler, buildContext: BuildContext): Plugin<object, { req?: IncomingMessage }> {
  return {
    async onRequest({ request, url, serverContext, endResponse }) {
      const response = await handle(request, url, (credentials, options) => buildContext(request, serverContext?.req, credentials, options?.deferSession ?? false));
      if (response) endResponse(response);
    },
  };
}
