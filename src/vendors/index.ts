// The vendors' own session APIs over the one store: Kratos (@ory/client), Clerk (@clerk/backend)
// and Grid (its OpenAPI), each under a prefix of its own (VENDOR_ROUTES, KRATOS_PREFIX, CLERK_PREFIX,
// GRID_PREFIX). docs/compatibility.md lists every endpoint and how it is served.
import type { VendorRoutesConfig } from '../config.js';
import type { Logger } from '../logger.js';
import { clerkApi } from './clerk/routes.js';
import { gridApi } from './grid/routes.js';
import { kratosApi } from './kratos/routes.js';
import { serveVendors, type ContextFor } from './router.js';

export type { ContextFor };

export function vendorRoutes(config: VendorRoutesConfig, options: { logger: Logger; sessionCookie: string; maxBodyBytes: number }) {
  return serveVendors([kratosApi(config.kratosPrefix, options.sessionCookie), clerkApi(config.clerkPrefix), gridApi(config.gridPrefix)], options);
}
