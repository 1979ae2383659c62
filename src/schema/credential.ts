import { seesAdminData } from '../auth/guards.js';
import { builder } from '../builder.js';
import { CredentialTypeEnum } from './enums.js';

export const CredentialNode = builder.prismaNode('Credential', {
  description:
    'A way an identity signs in (Kratos credentials, Grid auth credentials). Its secret configuration is never exposed.',
  id: { field: 'id' },
  nullable: true,
  fields: (t) => ({
    type: t.expose('type', { type: CredentialTypeEnum, description: 'The kind of credential.' }),
    identifiers: t.stringList({
      nullable: true,
      description: 'What the credential is looked up by (email, username, OIDC subject, …); null for session callers.',
      resolve: (credential, _args, ctx) => (seesAdminData(ctx) ? credential.identifiers : null),
    }),
    nickname: t.exposeString('nickname', { nullable: true, description: 'A name for the credential shown to its owner.' }),
    version: t.exposeInt('version', { description: 'Version of the credential\'s configuration format.' }),
    externalId: t.exposeString('externalId', { nullable: true, description: 'The credential\'s id at the vendor it was imported from.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the credential was added.' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime', description: 'When the credential was last changed.' }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true, description: 'When the credential was revoked; null while it works.' }),
    identity: t.relation('identity', { description: 'Whose credential this is.' }),
  }),
});
