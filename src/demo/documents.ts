// The demo's vendor exports, in each vendor's own format, with times relative to now so the data
// looks current whenever it is loaded: Grid wallet sessions, Kratos identities with devices and
// authentication methods, and a Clerk user with a session in each of Clerk's eight statuses.
const minute = 60_000;
const hour = 60 * minute;
const day = 24 * hour;

export function demoDocuments(now = Date.now()) {
  const at = (offsetMs: number) => new Date(now + offsetMs).toISOString();
  const grid = {
    data: [
      {
        id: 'Session:019542f5-b3e7-7d02-8000-00000000d001',
        accountId: 'InternalAccount:019542f5-b3e7-7d02-9000-00000000d0a1',
        type: 'PASSKEY',
        nickname: 'Grace’s iPhone',
        createdAt: at(-3 * day),
        updatedAt: at(-2 * hour),
        expiresAt: at(27 * day),
      },
      {
        id: 'Session:019542f5-b3e7-7d02-8000-00000000d002',
        accountId: 'InternalAccount:019542f5-b3e7-7d02-9000-00000000d0a1',
        type: 'EMAIL_OTP',
        nickname: 'grace@example.com',
        createdAt: at(-40 * minute),
        updatedAt: at(-40 * minute),
        expiresAt: at(23 * hour),
      },
      {
        id: 'Session:019542f5-b3e7-7d02-8000-00000000d003',
        accountId: 'InternalAccount:019542f5-b3e7-7d02-9000-00000000d0a1',
        type: 'OAUTH',
        nickname: 'Google sign-in',
        createdAt: at(-9 * day),
        updatedAt: at(-8 * day),
        expiresAt: at(-1 * day), // past: reads EXPIRED
      },
    ],
  };
  const kratosIdentity = {
    id: '7f3b5d0e-2a61-4c1e-9a8b-5d2f0c4ed0a2',
    schema_id: 'customer',
    schema_url: 'https://auth.example.com/schemas/customer',
    state: 'active',
    state_changed_at: at(-60 * day),
    traits: { email: 'ada@example.com', name: { first: 'Ada', last: 'Lovelace' } },
    metadata_public: { plan: 'team' },
    metadata_admin: { support_tier: 2 },
    created_at: at(-60 * day),
    updated_at: at(-5 * day),
    credentials: {
      password: { type: 'password', identifiers: ['ada@example.com'], config: {}, version: 0, created_at: at(-60 * day), updated_at: at(-60 * day) },
      webauthn: { type: 'webauthn', identifiers: ['ada@example.com'], config: {}, version: 1, created_at: at(-30 * day), updated_at: at(-30 * day) },
    },
    verifiable_addresses: [
      { id: '5c0e1a2b-3c4d-4e5f-8a9b-00000000d0b1', value: 'ada@example.com', via: 'email', verified: true, verified_at: at(-60 * day), status: 'completed', created_at: at(-60 * day), updated_at: at(-60 * day) },
    ],
    recovery_addresses: [{ id: '5c0e1a2b-3c4d-4e5f-8a9b-00000000d0b2', value: 'ada@example.com', via: 'email', created_at: at(-60 * day), updated_at: at(-60 * day) }],
  };
  const kratos = [
    {
      id: '4a1c2e3f-5b6d-4e7f-8a9b-00000000d101',
      active: true,
      authenticated_at: at(-2 * hour),
      authentication_methods: [
        { method: 'password', aal: 'aal1', completed_at: at(-2 * hour) },
        { method: 'webauthn', aal: 'aal2', completed_at: at(-2 * hour + 30_000) },
      ],
      authenticator_assurance_level: 'aal2',
      devices: [
        { id: '9b8a7c6d-5e4f-4a3b-8c2d-00000000d201', ip_address: '203.0.113.10', location: 'London, GB', user_agent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Safari/17.5' },
      ],
      expires_at: at(22 * hour),
      issued_at: at(-2 * hour),
      identity: kratosIdentity,
    },
    {
      id: '4a1c2e3f-5b6d-4e7f-8a9b-00000000d102',
      active: true,
      authenticated_at: at(-4 * day),
      authentication_methods: [{ method: 'oidc', aal: 'aal1', completed_at: at(-4 * day), provider: 'google' }],
      authenticator_assurance_level: 'aal1',
      devices: [
        { id: '9b8a7c6d-5e4f-4a3b-8c2d-00000000d202', ip_address: '198.51.100.7', location: 'Paris, FR', user_agent: 'Mozilla/5.0 (Linux; Android 15; Pixel 9) AppleWebKit/537.36 Chrome/131.0 Mobile Safari/537.36' },
        { id: '9b8a7c6d-5e4f-4a3b-8c2d-00000000d203', ip_address: '198.51.100.8', location: 'Lyon, FR', user_agent: 'Mozilla/5.0 (Linux; Android 15; Pixel 9) AppleWebKit/537.36 Chrome/131.0 Mobile Safari/537.36' },
      ],
      expires_at: at(3 * day),
      issued_at: at(-4 * day),
      identity: kratosIdentity,
    },
    {
      id: '4a1c2e3f-5b6d-4e7f-8a9b-00000000d103',
      active: false,
      authenticated_at: at(-20 * day),
      authentication_methods: [{ method: 'code', aal: 'aal1', completed_at: at(-20 * day) }],
      authenticator_assurance_level: 'aal1',
      devices: [{ id: '9b8a7c6d-5e4f-4a3b-8c2d-00000000d204', ip_address: '192.0.2.33', location: 'Berlin, DE', user_agent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Firefox/132.0' }],
      expires_at: at(-10 * day),
      issued_at: at(-20 * day),
      identity: kratosIdentity,
    },
  ];
  const statuses = ['active', 'revoked', 'ended', 'expired', 'removed', 'abandoned', 'replaced', 'pending'] as const;
  const clerk = {
    data: statuses.map((status, i) => ({
      object: 'session',
      id: `sess_demo${status}${i}`,
      user_id: 'user_demoKatherine',
      client_id: `client_demo${i}`,
      actor: status === 'pending' ? { sub: 'user_demoSupportAgent' } : null,
      status,
      last_active_organization_id: 'org_demoNasa',
      last_active_at: now - (i + 1) * hour,
      expire_at: status === 'expired' ? now - hour : now + 7 * day,
      abandon_at: status === 'abandoned' ? now - hour : now + 30 * day,
      updated_at: now - i * hour,
      created_at: now - (i + 2) * day,
      latest_activity: {
        object: 'session_activity',
        id: `sess_activity_demo${i}`,
        browser_name: i % 2 ? 'Firefox' : 'Chrome',
        browser_version: i % 2 ? '132.0' : '131.0',
        device_type: i % 2 ? 'Windows' : 'Macintosh',
        ip_address: `192.0.2.${10 + i}`,
        city: 'Houston',
        country: 'US',
        is_mobile: false,
      },
    })),
  };
  return { GRID: grid, KRATOS: kratos, CLERK: clerk } as const;
}
