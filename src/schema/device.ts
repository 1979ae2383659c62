import { builder } from '../builder.js';

export const DeviceNode = builder.prismaNode('Device', {
  description: 'A device (browser or app) a session was used from (Kratos `devices`).',
  id: { field: 'id' },
  nullable: true,
  fields: (t) => ({
    externalId: t.exposeString('externalId', { nullable: true, description: 'The device\'s id at the vendor it was imported from (Kratos `devices[].id`).' }),
    ipAddress: t.exposeString('ipAddress', { nullable: true, description: 'IP address the device was last seen from.' }),
    location: t.exposeString('location', { nullable: true, description: 'Where the device was, as a place name derived from its IP address.' }),
    userAgent: t.exposeString('userAgent', { nullable: true, description: 'The device\'s User-Agent header.' }),
    firstSeenAt: t.expose('firstSeenAt', { type: 'DateTime', description: 'When the device was first seen in this session.' }),
    lastSeenAt: t.expose('lastSeenAt', { type: 'DateTime', description: 'When the device was last seen in this session.' }),
    session: t.relation('session', { description: 'The session the device belongs to.' }),
  }),
});
