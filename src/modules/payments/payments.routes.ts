import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { errors } from '../../platform/http-schemas.ts';
import type { PaymentsService } from './payments.service.ts';

export const paymentsRoutes: FastifyPluginAsyncTypebox<{ payments: PaymentsService }> = async (app, { payments }) => {
  // The signature covers the exact bytes sent, so this route (and only this one: the parser is
  // scoped to this plugin) reads the body as a string and parses it after checking.
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => done(null, body));

  app.post(
    '/api/payments/webhook',
    {
      schema: {
        tags: ['payments'],
        summary: 'Gateway webhook, signed with Tm-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.body">',
        headers: Type.Object({ 'tm-signature': Type.Optional(Type.String({ maxLength: 1000 })) }),
        body: Type.String({ description: 'The gateway event, as JSON' }),
        response: { 200: Type.Object({ received: Type.Boolean(), outcome: Type.String() }), ...errors(400, 413) },
      },
    },
    async (request) => {
      const outcome = await payments.webhook(request.body, request.headers['tm-signature']);
      return { received: true, outcome };
    },
  );
};
